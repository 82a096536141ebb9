// shoggoth tokenizer train|encode|decode|info: train a byte-level BPE, or
// check any supported tokenizer file by hand (text on stdin -> ids on
// stdout, and back).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/error.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/tokenizer.h"

namespace {

std::string read_stdin() {
  std::string s;
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(STDIN_FILENO, buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      throw shog::Error(shog::ErrorKind::io, "stdin", "read failed");
    }
    s.append(buf, size_t(n));
  }
  return s;
}

void write_stdout(std::string_view s) {
  SHOG_CHECK(std::fwrite(s.data(), 1, s.size(), stdout) == s.size() && std::fflush(stdout) == 0, shog::ErrorKind::io,
             "stdout", "write failed");
}

void setup(CLI::App& app) {
  app.require_subcommand(1);

  auto* train = app.add_subcommand("train", "Train a byte-level BPE tokenizer on UTF-8 text files");
  static std::vector<std::string> inputs;
  static std::string out, pattern = "gpt4";
  static int vocab = 8192, threads = 0;
  train->add_option("--input", inputs, "Text files (UTF-8)")->required()->expected(1, -1);
  train->add_option("--vocab-size", vocab, "Vocabulary size including 256 bytes and the special tokens")
      ->capture_default_str();
  train->add_option("--out", out, "Output tokenizer file (shoggoth format, written atomically)")->required();
  train->add_option("--pattern", pattern, "Split regex: gpt2, gpt4 (= cl100k), qwen2, o200k, or a PCRE2 regex")
      ->capture_default_str();
  train->add_option("--threads", threads, "Threads for pre-token counting (0: all cores)")->capture_default_str();
  train->callback([] {
    shog::BpeTrainOptions o;
    o.vocab_size = vocab;
    o.pattern = pattern;
    o.threads = threads;
    o.progress = true;
    auto t0 = std::chrono::steady_clock::now();
    shog::Tokenizer tok = shog::train_bpe(inputs, o);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    tok.save(out);
    uint64_t bytes = 0;
    for (auto& f : inputs) {
      FILE* fp = std::fopen(f.c_str(), "rb");
      if (fp) {
        std::fseek(fp, 0, SEEK_END);
        bytes += uint64_t(std::ftell(fp));
        std::fclose(fp);
      }
    }
    std::fprintf(stderr, "trained %s: vocabulary %d on %.1f MB in %.2f s (%.1f MB/s)\n", out.c_str(),
                 tok.vocab_size(), bytes / 1e6, s, bytes / 1e6 / s);
  });

  static std::string tok_path;
  static bool special = false, jsonl = false;
  static int enc_threads = 0;
  auto* enc = app.add_subcommand("encode", "Encode stdin to token ids on stdout (space-separated)");
  enc->add_option("--tokenizer", tok_path, "Tokenizer file: shoggoth, .tiktoken, js-tiktoken ranks, tokenizer.json")
      ->required();
  enc->add_flag("--special", special, "Match special/added tokens in the text (otherwise they are plain text)");
  enc->add_flag("--jsonl", jsonl,
                "Batch: each stdin line is a JSON string; print one line of ids per input line (in parallel)");
  enc->add_option("--threads", enc_threads, "Threads for --jsonl (0: all cores)");
  enc->callback([] {
    shog::Tokenizer tok = shog::Tokenizer::load(tok_path);
    std::string in = read_stdin();
    std::vector<std::string> texts;
    if (jsonl) {
      size_t line = 0, pos = 0;
      while (pos < in.size()) {
        size_t eol = in.find('\n', pos);
        if (eol == std::string::npos) eol = in.size();
        std::string_view l(in.data() + pos, eol - pos);
        pos = eol + 1;
        ++line;
        if (l.empty()) continue;
        try {
          texts.push_back(nlohmann::json::parse(l).get<std::string>());
        } catch (const nlohmann::json::exception& e) {
          throw shog::Error(shog::ErrorKind::invalid_argument, fmt::format("stdin:{}", line),
                            fmt::format("not a JSON string: {}", e.what()));
        }
      }
    } else {
      texts.push_back(std::move(in));
    }
    std::vector<std::vector<int32_t>> all;
    if (special) {
      for (auto& t : texts) all.push_back(tok.encode_with_special(t));
    } else {
      all = tok.encode_batch(texts, enc_threads);
    }
    std::string o;
    for (auto& ids : all) {
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i) o += ' ';
        o += std::to_string(ids[i]);
      }
      o += '\n';
    }
    write_stdout(o);
  });

  auto* dec = app.add_subcommand("decode", "Decode whitespace-separated token ids on stdin to bytes on stdout");
  dec->add_option("--tokenizer", tok_path, "Tokenizer file")->required();
  dec->callback([] {
    shog::Tokenizer tok = shog::Tokenizer::load(tok_path);
    std::string in = read_stdin();
    std::vector<int32_t> ids;
    size_t i = 0;
    while (i < in.size()) {
      while (i < in.size() && std::isspace(uint8_t(in[i]))) ++i;
      if (i >= in.size()) break;
      size_t j = i;
      int64_t v = 0;
      while (j < in.size() && std::isdigit(uint8_t(in[j])) && v < (int64_t(1) << 31)) v = v * 10 + (in[j++] - '0');
      SHOG_CHECK(j > i && (j == in.size() || std::isspace(uint8_t(in[j]))) && v < (int64_t(1) << 31),
                 shog::ErrorKind::invalid_argument, fmt::format("stdin: byte {}", i), "expected a token id");
      ids.push_back(int32_t(v));
      i = j;
    }
    write_stdout(tok.decode(ids));
  });

  auto* info = app.add_subcommand("info", "Print a tokenizer's vocabulary size, merge order, pattern and specials");
  info->add_option("--tokenizer", tok_path, "Tokenizer file")->required();
  info->callback([] {
    shog::Tokenizer tok = shog::Tokenizer::load(tok_path);
    const auto& m = tok.model();
    std::ostringstream o;
    o << "vocab_size: " << tok.vocab_size() << "\n"
      << "merge_order: " << (m.order() == shog::MergeOrder::ranks ? "ranks" : "merges") << "\n"
      << "merges: " << m.merges().size() << "\n"
      << "whole_piece_shortcut: " << (m.whole_piece_shortcut() ? "yes" : "no") << "\n"
      << "normalizer: " << (tok.normalizer().empty() ? "none" : tok.normalizer()) << "\n"
      << "pattern: " << tok.pattern() << "\n"
      << "added_tokens: " << tok.added_tokens().size() << "\n";
    for (auto& t : tok.added_tokens()) o << "  " << t.id << " " << t.text << (t.special ? " (special)" : "") << "\n";
    write_stdout(o.str());
  });
}

shog::cli::Registration reg{"tokenizer", "Train, inspect and run tokenizers (encode/decode)", setup};

}  // namespace
