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

#include "core/error.h"
#include "core/file_io.h"
#include "tokenizer/tokenizer.h"

int main(int argc, char** argv) {
  std::string tok_path, corpus_path;
  int threads = 1, repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--tokenizer") tok_path = argv[i + 1];
    else if (a == "--corpus") corpus_path = argv[i + 1];
    else if (a == "--threads") threads = std::atoi(argv[i + 1]);
    else if (a == "--repeat") repeat = std::atoi(argv[i + 1]);
  }
  if (tok_path.empty() || corpus_path.empty()) {
    std::fprintf(stderr, "usage: tokenizer_bench --tokenizer F --corpus F [--threads N] [--repeat R]\n");
    return 2;
  }
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
