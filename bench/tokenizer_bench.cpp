// Encode throughput of one tokenizer on one corpus, for
// bench/tokenizer_throughput.sh. The corpus is cut into documents exactly as
// the JavaScript side cuts it (after the first '\n' at or past every 4096
// bytes), so every implementation encodes the same list of strings.
//
//   tokenizer_bench --tokenizer cl100k_base.json --corpus corpus.txt [--threads N] [--repeat 3]
// Prints: threads, bytes, tokens, best seconds, MB/s.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "core/file_io.h"
#include "tokenizer/tokenizer.h"

int main(int argc, char** argv) {
  CLI::App app{"Encode throughput of one tokenizer on one corpus, for bench/tokenizer_throughput.sh. The corpus is cut "
               "into documents exactly as the JavaScript side cuts it (after the first newline at or past every 4096 "
               "bytes), so every implementation encodes the same list of strings. Prints threads, bytes, docs, "
               "tokens, best seconds and MB/s.",
               "tokenizer_bench"};
  std::string tok_path, corpus_path;
  int threads = 1, repeat = 3;
  app.add_option("--tokenizer", tok_path, "Tokenizer file (tokenizer.json)")->required();
  app.add_option("--corpus", corpus_path, "Text file to encode")->required();
  app.add_option("--threads", threads, "Encoding threads (1: encode each document in turn; more: encode_batch)")
      ->capture_default_str();
  app.add_option("--repeat", repeat, "Repetitions; the best is reported")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    shog::Tokenizer tok = shog::Tokenizer::load(tok_path);
    std::string text = shog::read_file(corpus_path);
    std::vector<std::string> docs;
    for (size_t pos = 0; pos < text.size();) {
      size_t end = std::min(text.size(), pos + 4096);
      size_t nl = text.find('\n', end);
      end = (end >= text.size() || nl == std::string::npos) ? text.size() : nl + 1;
      docs.push_back(text.substr(pos, end - pos));
      pos = end;
    }
    double best = 1e30;
    size_t tokens = 0;
    for (int r = 0; r < repeat; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      tokens = 0;
      if (threads <= 1) {
        for (auto& d : docs) tokens += tok.encode(d).size();
      } else {
        for (auto& ids : tok.encode_batch(docs, threads)) tokens += ids.size();
      }
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("threads=%d bytes=%zu docs=%zu tokens=%zu seconds=%.3f MB/s=%.2f\n", threads, text.size(), docs.size(),
                tokens, best, text.size() / 1e6 / best);
  } catch (const shog::Error& e) {
    std::fprintf(stderr, "tokenizer_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
