// libFuzzer target: the tokenizer-file parsers (our JSON format, .tiktoken,
// js-tiktoken ranks, HF tokenizer.json) on arbitrary bytes. Property: they
// either build a tokenizer or throw shog::Error; never crash, hang or throw
// anything else. The input's first byte picks the name the parser is given,
// since .tiktoken files are recognised by name.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* names[] = {"fuzz.json", "cl100k_base.tiktoken", "r50k_base.tiktoken", "tokenizer.json"};
  std::string name = names[data[0] % 4];
  std::string_view content(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    shog::Tokenizer t = shog::Tokenizer::parse(content, name);
    // Whatever loads must also work.
    auto ids = t.encode_with_special("hello <|endoftext|> world \xff");
    (void)t.decode(ids);
  } catch (const shog::Error&) {
  }
  return 0;
}
