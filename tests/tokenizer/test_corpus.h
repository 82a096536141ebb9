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
  static const char* syllables[] = {"ka", "to", "ri", "ne", "mu", "sha", "lo", "vi", "dre", "qua",
                                    "zen", "po", "ly", "ge", "xo", "bru", "fe", "ti", "ng", "ör"};
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int i = 0; i < 8000; ++i) {
    next();
    if (x % 3 == 0) {
      s += words[(x >> 8) % (sizeof words / sizeof *words)];
    } else {
      // Made-up words from syllables: enough distinct pairs for a few
      // hundred merges.
      int n = 1 + int((x >> 8) % 4);
      for (int k = 0; k < n; ++k) s += syllables[next() % (sizeof syllables / sizeof *syllables)];
    }
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
