#include "serve/api_error.h"

namespace shog::serve {

void throw_http(int status, std::string type, std::string code, std::string message, std::string param,
                int retry_after_s) {
  throw HttpError(ApiError{status, std::move(type), std::move(code), std::move(param), std::move(message),
                           retry_after_s});
}

ApiError to_api_error(const std::exception& ex) {
  if (auto* h = dynamic_cast<const HttpError*>(&ex)) return h->api();
  if (auto* e = dynamic_cast<const Error*>(&ex)) {
    switch (e->kind()) {
      case ErrorKind::invalid_argument:
      case ErrorKind::bad_input:
      case ErrorKind::unsupported:
        return {400, "invalid_request_error", "", e->where(), e->what_only()};
      case ErrorKind::io:
      case ErrorKind::numeric:
      case ErrorKind::internal:
        break;
    }
    return {500, "server_error", "", "", e->what()};
  }
  if (auto* j = dynamic_cast<const nlohmann::json::exception*>(&ex)) {
    // Parse errors of the body (syntax, invalid UTF-8); the id-prefixed text is nlohmann's.
    std::string m = j->what();
    return {400, "invalid_request_error", "invalid_json", "", "the request body is not valid JSON: " + m};
  }
  return {500, "server_error", "", "", std::string("internal error: ") + ex.what()};
}

ApiError api_error_for_status(int status) {
  switch (status) {
    case 400: return {400, "invalid_request_error", "", "", "malformed HTTP request"};
    case 404: return {404, "invalid_request_error", "not_found", "", "no such endpoint"};
    case 405: return {405, "invalid_request_error", "method_not_allowed", "", "method not allowed on this endpoint"};
    case 413: return {413, "invalid_request_error", "request_too_large", "", "the request body is too large"};
    case 414: return {414, "invalid_request_error", "uri_too_long", "", "the request URI is too long"};
    default: break;
  }
  if (status >= 500) return {status, "server_error", "", "", "internal server error"};
  return {status, "invalid_request_error", "", "", "request failed"};
}

nlohmann::json to_json(const ApiError& e) {
  auto opt = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  return {{"error", {{"message", e.message}, {"type", e.type}, {"param", opt(e.param)}, {"code", opt(e.code)}}}};
}

}  // namespace shog::serve
