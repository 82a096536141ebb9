// Errors at the HTTP edge. Inside the server everything is a shog::Error;
// the few failures that only the edge knows (a bad key, a tier, a rate
// limit, an unknown model) are an HttpError, a shog::Error that also carries
// its status. to_api_error() is the one place where any exception becomes
// an OpenAI-shaped error:
//
//   {"error": {"message": "...", "type": "invalid_request_error",
//              "param": "temperature", "code": null}}
//
// with its HTTP status (docs/api.md, "Errors").
#pragma once
#include <exception>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace shog::serve {

struct ApiError {
  int status = 500;
  std::string type = "server_error";
  std::string code;     // "" -> null
  std::string param;    // "" -> null
  std::string message;
  int retry_after_s = 0;  // > 0: a Retry-After header (429, 503)
};

class HttpError : public Error {
 public:
  explicit HttpError(ApiError e) : Error(ErrorKind::invalid_argument, e.param, e.message), api_(std::move(e)) {}
  const ApiError& api() const { return api_; }

 private:
  ApiError api_;
};

// Shorthands for the edge's own failures.
[[noreturn]] void throw_http(int status, std::string type, std::string code, std::string message,
                             std::string param = {}, int retry_after_s = 0);

// The mapping: HttpError as it is; shog::Error by kind (invalid_argument and
// bad_input -> 400 with `param` = its where(), unsupported -> 400, io,
// numeric, internal -> 500); JSON parse errors -> 400; anything else -> 500.
ApiError to_api_error(const std::exception& e);
// A status the HTTP library produced itself (no route, body too large, bad
// request line) -> an error body.
ApiError api_error_for_status(int status);

nlohmann::json to_json(const ApiError& e);

}  // namespace shog::serve
