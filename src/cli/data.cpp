// `shoggoth data`: corpus preparation.
//
//   shoggoth data prepare --tokenizer TOK --input FILE_OR_DIR... --out DIR
//                         [--val-fraction 0.01] [--format text|jsonl]
//                         [--jsonl-field text] [--threads N] [--shard-tokens N]
//   shoggoth data inspect SHARD...
//   shoggoth data synth --out DIR [--seed 1] [--train 8000 --val 500 --test 500]
//   shoggoth data check --form conversations|preferences|prompts FILE...
//
// prepare tokenizes a corpus into token shards (src/data/prepare.h says how
// documents and the split are defined); inspect validates shards and prints
// their headers, so a user can check a shard by hand; synth writes the
// synthetic assistant world (src/data/synth/world.h, docs/synth.md); check
// reads JSONL record files with the readers the trainers use
// (src/data/records.h), so a dataset can be validated before a run.
#include <chrono>
#include <cstdio>

#include "cli/command.h"
#include "core/error.h"
#include "core/file_io.h"
#include "data/prepare.h"
#include "data/records.h"
#include "data/synth/knowledge.h"
#include "data/synth/world.h"
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

void setup_synth(CLI::App& app) {
  auto opt = std::make_shared<shog::synth::WorldOptions>();
  auto out = std::make_shared<std::string>();
  app.add_option("--out", *out, "Output directory for the JSONL files and manifest.json")->required();
  app.add_option("--seed", opt->seed, "Random seed (same seed, same files)")->capture_default_str();
  app.add_option("--train", opt->prompts[0], "Prompts in the train split")->capture_default_str();
  app.add_option("--val", opt->prompts[1], "Prompts in the val split")->capture_default_str();
  app.add_option("--test", opt->prompts[2], "Prompts in the test split")->capture_default_str();
  app.callback([opt, out] {
    size_t total = opt->prompts[0] + opt->prompts[1] + opt->prompts[2];
    SHOG_CHECK(total > 0, shog::ErrorKind::invalid_argument, "--train/--val/--test", "no prompts to generate");
    for (size_t n : opt->prompts)
      SHOG_CHECK(n <= 10'000'000, shog::ErrorKind::invalid_argument, "--train/--val/--test",
                 "{} prompts in one split is more than the 10000000 allowed", n);
    auto t0 = std::chrono::steady_clock::now();
    auto world = shog::synth::generate_world(*opt);
    auto manifest = shog::synth::write_world(world, *opt, *out);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("wrote %s in %.2f s (seed %llu)\n", out->c_str(), secs, (unsigned long long)opt->seed);
    for (const char* split : {"train", "val", "test"}) {
      const auto& k = manifest["kinds"][split];
      std::printf("%-5s %6zu prompts (%zu distinct): %zu helpful, %zu harmful, %zu benign\n", split,
                  manifest["prompts"][split].get<size_t>(), manifest["distinct_prompts"][split].get<size_t>(),
                  k["helpful"].get<size_t>(), k["harmful"].get<size_t>(), k["benign"].get<size_t>());
    }
  });
}

void setup_knowledge(CLI::App& app) {
  auto opt = std::make_shared<shog::synth::KnowledgeOptions>();
  auto out = std::make_shared<std::string>();
  app.add_option("--out", *out, "Output text file (written atomically)")->required();
  app.add_option("--seed", opt->seed, "Random seed (same seed, same text)")->capture_default_str();
  app.add_option("--passes", opt->passes, "Times every request is described, each time in other sentences")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.callback([opt, out] {
    std::string text = shog::synth::world_knowledge_text(*opt);
    shog::write_file_atomic(*out, text);
    std::printf("wrote %s: %zu bytes, %d passes (seed %llu)\n", out->c_str(), text.size(), opt->passes,
                (unsigned long long)opt->seed);
  });
}

void setup_check(CLI::App& app) {
  auto form = std::make_shared<std::string>();
  auto paths = std::make_shared<std::vector<std::string>>();
  app.add_option("--form", *form, "Record form: conversations (SFT), preferences (reward/DPO) or prompts (RL)")
      ->required()
      ->check(CLI::IsMember({"conversations", "preferences", "prompts"}));
  app.add_option("files", *paths, "JSONL files")->required();
  app.callback([form, paths] {
    for (const auto& p : *paths) {
      size_t n = *form == "conversations" ? shog::read_conversations(p).size()
                 : *form == "preferences" ? shog::read_preferences(p).size()
                                          : shog::read_prompts(p).size();
      std::printf("%s: ok, %zu %s\n", p.c_str(), n, form->c_str());
    }
  });
}

void setup(CLI::App& app) {
  app.require_subcommand(1);
  setup_prepare(*app.add_subcommand("prepare", "Tokenize a text or JSONL corpus into train/validation token shards"));
  setup_inspect(*app.add_subcommand("inspect", "Validate token shards and print their headers"));
  setup_synth(*app.add_subcommand("synth", "Write the synthetic assistant world (SFT, preference, RL, moderation data)"));
  setup_knowledge(*app.add_subcommand(
      "knowledge", "Write the synthetic world's knowledge text, prose about every request, for pretraining"));
  setup_check(*app.add_subcommand("check", "Validate JSONL records (conversations, preferences, prompts)"));
}

shog::cli::Registration reg{"data", "Corpus preparation: token shards; the synthetic assistant world", setup};

}  // namespace
