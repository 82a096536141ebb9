// `shoggoth data`: corpus preparation.
//
//   shoggoth data prepare --tokenizer TOK --input FILE_OR_DIR... --out DIR
//                         [--val-fraction 0.01] [--format text|jsonl]
//                         [--jsonl-field text] [--threads N] [--shard-tokens N]
//   shoggoth data inspect SHARD...
//
// prepare tokenizes a corpus into token shards (src/data/prepare.h says how
// documents and the split are defined); inspect validates shards and prints
// their headers, so a user can check a shard by hand.
#include <cstdio>

#include "cli/command.h"
#include "core/error.h"
#include "data/prepare.h"
#include "data/token_shard.h"

namespace {

void setup_prepare(CLI::App& app) {
  auto opt = std::make_shared<shog::PrepareOptions>();
  auto format = std::make_shared<std::string>("text");
  app.add_option("--tokenizer", opt->tokenizer, "Tokenizer file")->required();
  app.add_option("--input", opt->inputs, "Input files or directories (*.txt / *.jsonl inside)")->required();
  app.add_option("--out", opt->out_dir, "Output directory for shards and meta.json")->required();
  app.add_option("--val-fraction", opt->val_fraction, "Fraction of documents held out for validation")
      ->capture_default_str();
  app.add_option("--format", *format, "Input format: text (blank-line-separated paragraphs) or jsonl")
      ->check(CLI::IsMember({"text", "jsonl"}))
      ->capture_default_str();
  app.add_option("--jsonl-field", opt->jsonl_field, "JSONL field holding the document text")->capture_default_str();
  app.add_option("--threads", opt->threads, "Encoding threads (0: all cores)")->capture_default_str();
  app.add_option("--shard-tokens", opt->shard_tokens, "Start a new shard past this many tokens")
      ->capture_default_str();
  app.callback([opt, format] {
    opt->format = *format == "jsonl" ? shog::CorpusFormat::jsonl : shog::CorpusFormat::text;
    auto r = shog::prepare_shards(*opt);
    auto line = [](const char* split, const shog::SplitSummary& s) {
      std::printf("%-5s %10llu documents %14llu tokens  %zu shard(s)\n", split, (unsigned long long)s.documents,
                  (unsigned long long)s.tokens, s.shards.size());
    };
    std::printf("prepared %s from %llu file(s), %.1f MB in %.1f s (%.2f MB/s), vocabulary %u\n", opt->out_dir.c_str(),
                (unsigned long long)r.input_files, double(r.input_bytes) / 1e6, r.seconds,
                r.seconds > 0 ? double(r.input_bytes) / 1e6 / r.seconds : 0.0, r.vocab_size);
    line("train", r.train);
    line("val", r.val);
  });
}

void setup_inspect(CLI::App& app) {
  auto paths = std::make_shared<std::vector<std::string>>();
  app.add_option("shards", *paths, "Shard files to validate")->required();
  app.callback([paths] {
    for (const auto& p : *paths) {
      shog::TokenShard s(p);  // throws, naming the file, if it is corrupt
      std::printf("%s: ok, %llu tokens, uint%u, vocabulary %u, checksum %016llx\n", p.c_str(),
                  (unsigned long long)s.size(), s.width() * 8, s.vocab_size(), (unsigned long long)s.checksum());
    }
  });
}

void setup(CLI::App& app) {
  app.require_subcommand(1);
  setup_prepare(*app.add_subcommand("prepare", "Tokenize a text or JSONL corpus into train/validation token shards"));
  setup_inspect(*app.add_subcommand("inspect", "Validate token shards and print their headers"));
}

shog::cli::Registration reg{"data", "Corpus preparation: token shards", setup};

}  // namespace
