// The one error type of shoggoth. It is thrown where a problem is found and
// carries *where* (a file, a line, a field, a request id: whatever applies)
// and *what*. The edges (CLI main, HTTP handlers) turn it into a message and
// an exit code or status; nothing in between catches it to hide it.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace shog {

// What kind of failure: lets an edge pick an exit code / HTTP status.
enum class ErrorKind : uint8_t {
  invalid_argument,  // a bad flag, config key or value, or request field
  bad_input,         // a corrupt or malformed file or data record
  io,                // the OS refused: open, read, write, rename, mmap
  numeric,           // NaN/Inf loss or gradient
  unsupported,       // valid but not implemented (e.g. dtype on a backend)
  internal,          // a bug: an invariant did not hold
};

const char* error_kind_name(ErrorKind k);

class Error : public std::runtime_error {
 public:
  // `where` names the place: "run.toml: key train.lr", "data/train.bin: header",
  // "corpus.jsonl:17". Empty when there is no better place than the message.
  Error(ErrorKind kind, std::string where, std::string what);

  ErrorKind kind() const { return kind_; }
  const std::string& where() const { return where_; }
  const std::string& what_only() const { return what_; }

 private:
  ErrorKind kind_;
  std::string where_;
  std::string what_;
};

// Exit code for the CLI: 2 for bad arguments/config, 3 bad input data,
// 4 I/O, 5 numeric, 6 unsupported, 70 internal.
int exit_code_for(ErrorKind k);

}  // namespace shog

// Throws shog::Error if `cond` is false; message formatted with fmt.
#define SHOG_CHECK(cond, kind, where, ...)                                  \
  do {                                                                      \
    if (!(cond)) throw ::shog::Error((kind), (where), fmt::format(__VA_ARGS__)); \
  } while (0)

// An internal invariant; failing it is a bug in shoggoth, not in the input.
#define SHOG_ASSERT(cond)                                                            \
  do {                                                                               \
    if (!(cond))                                                                     \
      throw ::shog::Error(::shog::ErrorKind::internal, fmt::format("{}:{}", __FILE__, __LINE__), \
                          "assertion failed: " #cond);                              \
  } while (0)
