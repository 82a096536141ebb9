// Corpus to token shards (`shoggoth data prepare`; docs/formats.md, "Token
// shards").
//
// Documents: in text files, a document is a paragraph, i.e. a run of lines
// ended by a blank (empty or whitespace-only) line or the end of the file; it
// keeps its own newlines. In JSONL files, every non-blank line is a JSON
// object and its string field (default "text") is one document. Each document
// is tokenized on its own, <|bos|> first when the tokenizer has that token,
// so that no token spans two documents and a model learns where texts begin.
//
// Split: documents are numbered in input order (files sorted, then position
// in the file) and document i goes to validation when floor((i+1)f) > floor(i f)
// for the validation fraction f: exactly floor(n f) documents, spread evenly
// through the corpus, the same on every run.
//
// Output: OUT/train_000.bin, train_001.bin, ... and val_000.bin, ... (a new
// shard starts after shard_tokens tokens, at a document boundary), then
// OUT/meta.json, which is written last: a directory without meta.json is not
// a complete preparation. Everything is first written to a staging directory
// inside OUT, so a failure leaves OUT as it was.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace shog {

enum class CorpusFormat : uint8_t { text, jsonl };

struct PrepareOptions {
  std::string tokenizer;            // tokenizer file (any format Tokenizer::load reads)
  std::vector<std::string> inputs;  // files, or directories searched for *.txt / *.jsonl
  std::string out_dir;
  double val_fraction = 0.01;
  CorpusFormat format = CorpusFormat::text;
  std::string jsonl_field = "text";
  int threads = 0;                      // 0: all cores
  uint64_t shard_tokens = 100'000'000;  // start a new shard past this many tokens
  bool progress = true;                 // progress bar on stderr (when it is a terminal)
};

struct SplitSummary {
  uint64_t documents = 0, tokens = 0;
  std::vector<std::string> shards;  // full paths, in order
};

struct PrepareSummary {
  SplitSummary train, val;
  uint64_t input_files = 0, input_bytes = 0;
  uint32_t vocab_size = 0;
  double seconds = 0;
};

// Throws shog::Error: io for a missing or unreadable input, bad_input for
// text that is not UTF-8 (naming file, byte offset and line), a JSONL line
// that is not an object with a string field, an empty corpus or an empty
// validation split; invalid_argument for bad options. On any error nothing
// new is left in out_dir.
PrepareSummary prepare_shards(const PrepareOptions& opt);

// The input files `inputs` name, in the order prepare reads them: files as
// given, directories searched recursively for *.txt (text) or *.jsonl (jsonl)
// files, each directory's files sorted by path.
std::vector<std::string> corpus_files(const std::vector<std::string>& inputs, CorpusFormat format);

// Splits text into paragraph documents as described above (views into `text`).
std::vector<std::string_view> split_paragraphs(std::string_view text);

// The shard paths of `split` ("train" or "val") in a prepared directory, read
// from its meta.json (so an incomplete preparation is refused).
std::vector<std::string> prepared_shards(const std::string& dir, const std::string& split);

}  // namespace shog
