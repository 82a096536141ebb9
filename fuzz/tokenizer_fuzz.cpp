// libFuzzer target: encode/decode on arbitrary bytes. Properties: no crash,
// no sanitizer report, and decode(encode(x)) == x for both encode modes.
// The tokenizer is trained once, in-process, on a fixed text so the target
// needs no files.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tokenizer/bpe_trainer.h"

static const shog::Tokenizer& tokenizer() {
  static const shog::Tokenizer t = [] {
    std::string corpus;
    for (int i = 0; i < 200; ++i)
      corpus += "The quick brown fox jumps over the lazy dog. 1234 naïve café 日本語 😀 don't\n  x = f(y);\t\n";
    shog::BpeTrainOptions o;
    o.vocab_size = 256 + 7 + 60;
    o.threads = 1;
    return shog::train_bpe_on_texts({corpus}, {"fuzz corpus"}, o);
  }();
  return t;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const shog::Tokenizer& t = tokenizer();
  std::string_view s(reinterpret_cast<const char*>(data), size);
  if (t.decode(t.encode(s)) != s) std::abort();
  if (t.decode(t.encode_with_special(s)) != s) std::abort();
  return 0;
}
