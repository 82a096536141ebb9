// `shoggoth reward`: train a reward model on preference pairs;
// `shoggoth reward score`: score JSONL with one.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "align/reward.h"
#include "cli/command.h"
#include "cli/config_flags.h"
#include "core/error.h"
#include "core/file_io.h"
#include "data/records.h"

namespace {

struct ScoreArgs {
  std::string model, data, out;
  std::vector<std::string> by;  // fields of the pair lines to break the accuracy down by
};

// Preference lines get score_chosen/score_rejected; other lines (messages or
// prompt/completion) get score. One JSON object per input line.
void score(const ScoreArgs& a) {
  auto rm = shog::RewardModel::load(a.model);
  std::string text;
  // The first line decides: a "chosen" field means preference pairs.
  std::ifstream in(a.data);
  SHOG_CHECK(in, shog::ErrorKind::io, a.data, "cannot open");
  std::string first;
  while (first.empty() && std::getline(in, first)) {}
  const bool pairs = first.find("\"chosen\"") != std::string::npos;
  SHOG_CHECK(pairs || a.by.empty(), shog::ErrorKind::invalid_argument, a.data,
             "--by needs preference pairs (lines with \"chosen\" and \"rejected\")");
  std::vector<double> s;
  std::vector<shog::PreferencePair> prefs;
  if (pairs) {
    prefs = shog::read_preferences(a.data);
    s = rm.score_pairs(prefs);
  } else {
    std::vector<shog::Messages> convs;
    for (auto& c : shog::read_conversations(a.data)) {
      SHOG_CHECK(!c.is_text(), shog::ErrorKind::bad_input, fmt::format("{}: record {}", a.data, convs.size() + 1),
                 "a \"text\" document has no reply to score");
      convs.push_back(c.messages);
    }
    s = rm.score(convs);
  }
  int64_t too_long = 0;
  auto value = [&](double x) { return std::isnan(x) ? (++too_long, nlohmann::json()) : nlohmann::json(x); };
  for (size_t i = 0; i < (pairs ? s.size() / 2 : s.size()); ++i) {
    nlohmann::json j = pairs ? nlohmann::json{{"score_chosen", value(s[2 * i])}, {"score_rejected", value(s[2 * i + 1])}}
                             : nlohmann::json{{"score", value(s[i])}};
    text += j.dump() + "\n";
  }
  if (too_long)
    std::fprintf(stderr, "%lld conversations exceed the model's context and were not scored (null)\n",
                 (long long)too_long);
  if (a.out.empty()) std::cout << text;
  else shog::write_file_atomic(a.out, text);
  const shog::PairAccuracy acc = shog::pair_accuracy(s);
  if (pairs && acc.scored > 0)
    std::fprintf(stderr, "pairwise accuracy: %.4f (%lld of %lld scored pairs)\n", acc.value(), (long long)acc.correct,
                 (long long)acc.scored);
  if (!a.by.empty()) {
    std::string head;
    for (const auto& f : a.by) head += (head.empty() ? "" : " / ") + f;
    std::fprintf(stderr, "\n| %s | pairs | accuracy |\n|---|---:|---:|\n", head.c_str());
    for (const auto& [group, g] : shog::pair_accuracy_by(prefs, s, a.by))
      std::fprintf(stderr, "| %s | %lld | %.3f |\n", group.c_str(), (long long)g.scored, g.value());
  }
}

void setup(CLI::App& sub) {
  auto cfg = std::make_shared<shog::RewardConfig>();
  auto fields = std::make_shared<shog::ConfigFields>();
  cfg->register_fields(*fields);
  auto load = shog::cli::bind_config(sub, fields);
  sub.footer(
      "Trains a scalar head on the last token with the Bradley-Terry loss on JSONL preference pairs.\n"
      "Writes the body (model or LoRA adapter), score.safetensors, reward.json, metrics.jsonl and reward.svg.");
  auto args = std::make_shared<ScoreArgs>();
  auto* sc = sub.add_subcommand("score", "Score JSONL (pairs: chosen and rejected; conversations: each)");
  sc->add_option("--model,-m", args->model, "reward model directory")->required();
  sc->add_option("--data,-d", args->data, "JSONL: preference pairs or conversations")->required();
  sc->add_option("--out,-o", args->out, "write JSONL scores here (default: stdout)");
  sc->add_option("--by", args->by,
                 "also print the accuracy per group of pairs, grouped by these fields of the lines "
                 "(repeat or comma-separate, e.g. --by kind,bad_type)")
      ->delimiter(',');
  sc->callback([args] { score(*args); });
  sub.require_subcommand(0, 1);
  sub.callback([=, &sub] {
    if (sub.got_subcommand("score")) return;
    std::string toml = load();
    auto r = shog::run_reward(*cfg);
    shog::write_file_atomic(cfg->train.out_dir + "/run.toml", toml);
    std::printf("reward: %lld steps over %lld pairs (%lld skipped), final loss %.4f", (long long)r.steps,
                (long long)r.pairs, (long long)r.skipped, r.final_loss);
    if (r.val_accuracy >= 0) std::printf(", validation accuracy %.4f (loss %.4f)", r.val_accuracy, r.val_loss);
    std::printf(", %.1fs\nmodel: %s\n", r.seconds, cfg->train.out_dir.c_str());
  });
}

shog::cli::Registration reg{"reward", "Train a reward model on preference pairs, or score JSONL with one", setup};

}  // namespace
