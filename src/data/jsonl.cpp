#include "data/jsonl.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace shog {

JsonlReader::JsonlReader(std::string path) : path_(std::move(path)), in_(path_, std::ios::binary) {
  SHOG_CHECK(in_.is_open(), ErrorKind::io, path_, "cannot open for reading: {}", std::strerror(errno));
}

bool JsonlReader::next(nlohmann::json& out) {
  while (std::getline(in_, buf_)) {
    ++line_;
    if (!buf_.empty() && buf_.back() == '\r') buf_.pop_back();
    if (std::all_of(buf_.begin(), buf_.end(), [](char c) { return c == ' ' || c == '\t'; })) continue;
    where_ = fmt::format("{}:{}", path_, line_);
    auto* p = reinterpret_cast<const uint8_t*>(buf_.data());
    size_t ok = utf8::valid_prefix(p, buf_.size());
    SHOG_CHECK(ok == buf_.size(), ErrorKind::bad_input, where_,
               "invalid UTF-8 at column {} (byte 0x{:02x}); convert the file to UTF-8 first", ok + 1, p[ok]);
    try {
      out = nlohmann::json::parse(buf_);
    } catch (const nlohmann::json::parse_error& e) {
      throw Error(ErrorKind::bad_input, where_, fmt::format("not valid JSON: {}", e.what()));
    }
    SHOG_CHECK(out.is_object(), ErrorKind::bad_input, where_, "expected a JSON object, got {}", out.type_name());
    return true;
  }
  SHOG_CHECK(!in_.bad(), ErrorKind::io, path_, "read failed after line {}", line_);
  return false;
}

void for_each_jsonl(const std::string& path,
                    const std::function<void(const nlohmann::json&, const std::string& where)>& fn) {
  JsonlReader r(path);
  nlohmann::json j;
  while (r.next(j)) fn(j, r.where());
}

}  // namespace shog
