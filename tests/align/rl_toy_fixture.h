// What the PPO and GRPO toy runs share: a tiny random policy written to a
// temporary directory, prompts from JSONL lines, train settings small enough
// for a few seconds on one thread, and reading back metrics.jsonl.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "align/finetune_model.h"
#include "align/train_settings.h"
#include "core/file_io.h"
#include "data/test_dir.h"
#include "eval/eval_fixture.h"

namespace shog::rltoy {

// The model (evaltest::write_model_dir, seed 7: a padded vocabulary of 576
// ids over 563 tokens), the prompts, and 40 constant-lr steps of packed rows
// of 64 tokens writing to dir/<name>. Callers set lr and their trainer's keys.
inline void setup(const testing::TempDir& dir, const std::string& name, const std::vector<nlohmann::json>& prompts,
                  FinetuneSettings& model, AlignTrainSettings& train) {
  evaltest::write_model_dir(dir.file("model"), 7);
  std::string lines;
  for (const auto& p : prompts) lines += p.dump() + "\n";
  write_file_atomic(dir.file("prompts.jsonl"), lines);
  model.init = dir.file("model");
  model.dtype = "f32";
  train.train_data = dir.file("prompts.jsonl");
  train.out_dir = dir.file(name);
  train.steps = 40;
  train.batch_rows = 4;
  train.seq_len = 64;
  train.warmup_steps = 0;
  train.schedule = "constant";
  train.progress = false;
  train.threads = 1;  // a tiny model: more threads only contend
}

inline std::vector<nlohmann::json> read_metrics(const std::string& out_dir) {
  std::vector<nlohmann::json> rows;
  std::string text = read_file(out_dir + "/metrics.jsonl");
  for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1)
    rows.push_back(nlohmann::json::parse(text.substr(at, nl - at)));
  return rows;
}

inline double mean_of(const std::vector<nlohmann::json>& rows, const char* key, size_t from, size_t to) {
  double s = 0;
  for (size_t i = from; i < to; ++i) s += rows[i][key].get<double>();
  return s / double(to - from);
}

}  // namespace shog::rltoy
