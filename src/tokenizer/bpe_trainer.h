// Training a byte-level BPE vocabulary from text files.
//
//  1. Pre-token counting: the corpus is cut into fixed ~1 MiB chunks (ending
//     after a newline), split by the regex on all threads, each thread
//     counting pre-token -> occurrences in its own hash map; the maps are then
//     merged. Chunking does not depend on the thread count, so neither do
//     the counts.
//  2. Merges: each distinct pre-token is a "word" of symbol ids with a
//     count. We keep pair -> count and pair -> words containing it, and a
//     max-heap of (count, pair) with lazy deletion: a popped entry whose
//     count is out of date is pushed back with the current count. A merge
//     visits only the words that contain the pair, never the whole corpus.
//     Ties go to the smaller (left id, right id), so training is
//     deterministic.
//
// Special tokens get the last ids, after all merges, so no merge can ever
// produce one.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace shog {

// <|bos|>, <|eos|>, <|pad|> and the chat template's role markers.
const std::vector<std::string>& default_special_tokens();

struct BpeTrainOptions {
  int32_t vocab_size = 8192;          // including the 256 bytes and the specials
  std::string pattern = "gpt4";       // a named pattern (pretokenizer.h) or a regex
  int threads = 0;                    // 0: all cores
  std::vector<std::string> special_tokens = default_special_tokens();
  bool progress = false;              // progress bars on stderr
};

// Throws shog::Error: bad_input for text that is not UTF-8 (naming file and
// byte offset) or an empty corpus; invalid_argument for a vocabulary smaller
// than 256 + specials or larger than the corpus can fill.
Tokenizer train_bpe(const std::vector<std::string>& files, const BpeTrainOptions& opts);

// The same on in-memory texts (`names` label them in errors).
Tokenizer train_bpe_on_texts(const std::vector<std::string_view>& texts, const std::vector<std::string>& names,
                             const BpeTrainOptions& opts);

}  // namespace shog
