// A small deterministic corpus and a tokenizer trained on it, shared by the
// tokenizer tests (no files from outside the repository needed).
#pragma once
#include <string>

#include "tokenizer/bpe_trainer.h"

namespace shog::test {

inline std::string sample_corpus() {
  static const char* words[] = {"the",    "quick",  "brown", "fox",   "jumps", "over",   "lazy",  "dog",
                                "tokenizer", "merges", "pairs", "byte", "level", "Hello",  "world", "1234",
                                "naïve",  "café",   "日本語", "emoji😀", "don't", "it's",  "code()", "x=1;"};
  std::string s;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 6000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s += words[x % (sizeof words / sizeof *words)];
    s += (x >> 20) % 11 == 0 ? "\n" : ((x >> 24) % 7 == 0 ? ", " : " ");
  }
  return s;
}

inline const Tokenizer& sample_tokenizer() {
  static const Tokenizer t = [] {
    std::string c = sample_corpus();
    BpeTrainOptions o;
    o.vocab_size = 256 + 7 + 300;
    return train_bpe_on_texts({c}, {"sample"}, o);
  }();
  return t;
}

}  // namespace shog::test
