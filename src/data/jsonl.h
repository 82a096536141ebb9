// JSONL input: one JSON object per line, blank lines skipped. Every error,
// whether the line is not UTF-8, not JSON or not an object, names the line as
// "<file>:<line>" (1-based), and so do the record parsers that receive it.
#pragma once
#include <cstdint>
#include <fstream>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace shog {

class JsonlReader {
 public:
  explicit JsonlReader(std::string path);  // throws shog::Error (io) naming the file

  // Parses the next non-blank line into `out`; false at the end of the file.
  // Throws shog::Error (bad_input) at "<file>:<line>".
  bool next(nlohmann::json& out);

  // "<file>:<line>" of the line last returned by next().
  const std::string& where() const { return where_; }

 private:
  std::string path_, where_, buf_;
  std::ifstream in_;
  uint64_t line_ = 0;
};

// Calls fn(object, "<file>:<line>") for every non-blank line of the file.
void for_each_jsonl(const std::string& path,
                    const std::function<void(const nlohmann::json&, const std::string& where)>& fn);

}  // namespace shog
