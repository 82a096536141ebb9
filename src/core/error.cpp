#include "core/error.h"

namespace shog {

const char* error_kind_name(ErrorKind k) {
  switch (k) {
    case ErrorKind::invalid_argument: return "invalid argument";
    case ErrorKind::bad_input: return "bad input";
    case ErrorKind::io: return "I/O error";
    case ErrorKind::numeric: return "numeric error";
    case ErrorKind::unsupported: return "unsupported";
    case ErrorKind::internal: return "internal error";
  }
  return "error";
}

static std::string compose(const std::string& where, const std::string& what) {
  return where.empty() ? what : where + ": " + what;
}

Error::Error(ErrorKind kind, std::string where, std::string what)
    : std::runtime_error(compose(where, what)), kind_(kind), where_(std::move(where)), what_(std::move(what)) {}

int exit_code_for(ErrorKind k) {
  switch (k) {
    case ErrorKind::invalid_argument: return 2;
    case ErrorKind::bad_input: return 3;
    case ErrorKind::io: return 4;
    case ErrorKind::numeric: return 5;
    case ErrorKind::unsupported: return 6;
    case ErrorKind::internal: return 70;
  }
  return 1;
}

}  // namespace shog
