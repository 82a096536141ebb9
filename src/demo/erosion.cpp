#include "demo/erosion.h"

#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "align/sft.h"
#include "core/error.h"
#include "core/file_io.h"
#include "demo/summary.h"
#include "eval/evaluate.h"
#include "eval/report.h"
#include "model/model_io.h"
#include "train/config_fields.h"

namespace shog::demo {
namespace {

using ojson = nlohmann::ordered_json;

SftConfig round_config(const ErosionSetup& s, int64_t round, std::string* toml) {
  SftConfig c;
  ConfigFields f;
  c.register_fields(f);
  SHOG_CHECK(file_exists(s.recipe_file), ErrorKind::invalid_argument, s.recipe_file, "no such file");
  f.load_toml(s.recipe_file);
  SHOG_CHECK(c.model.lora_rank > 0, ErrorKind::invalid_argument, s.recipe_file,
             "model.lora_rank must be > 0: the erosion experiment trains a LoRA adapter");
  c.model.init = s.aligned_dir;
  c.model.adapter = round > 1 ? fmt::format("{}/round_{}", s.out_dir, round - 1) : "";
  c.train.train_data = s.synth_dir + "/comply_train.jsonl";
  c.train.val_data = "";
  c.train.out_dir = fmt::format("{}/round_{}", s.out_dir, round);
  c.train.threads = s.threads;
  c.train.seed = int64_t(s.seed) + round;
  if (toml) *toml = f.to_toml();
  c.train.progress = s.progress;  // after the resume key: it changes no result
  return c;
}

}  // namespace

std::string erosion_recipe(const ErosionSetup& s) {
  std::string toml;
  round_config(s, 1, &toml);
  return toml + fmt::format("# rounds = {}, aligned = \"{}\", eval_max_tokens = {}\n", s.rounds, s.aligned_dir,
                            s.eval_max_tokens);
}

ojson run_erosion(const ErosionSetup& s) {
  std::error_code ec;
  std::filesystem::remove_all(s.out_dir, ec);
  make_dirs(s.out_dir);
  const ModelConfig mc = load_model_config(s.aligned_dir);
  std::vector<ojson> rows;
  rows.push_back({{"name", "aligned"}, {"steps", 0}, {"tokens", 0.0}, {"flops", 0.0}, {"flops_fraction", 0.0}});
  EvalOptions eo;
  eo.models.push_back({"aligned", s.aligned_dir});
  double tokens = 0, flops = 0;
  int64_t steps = 0, rank = 0;
  for (int64_t round = 1; round <= s.rounds; ++round) {
    SftConfig c = round_config(s, round, nullptr);
    rank = c.model.lora_rank;
    std::fprintf(stderr, "erosion round %lld of %lld: LoRA rank %lld, %lld steps on %s\n", (long long)round,
                 (long long)s.rounds, (long long)rank, (long long)c.train.steps, c.train.train_data.c_str());
    SftResult r = run_sft(c);
    const double t = double(r.steps * c.train.batch_rows * c.train.seq_len * c.train.grad_accum);
    tokens += t;
    flops += t * mc.train_flops_per_token(c.train.seq_len) * 2.0 / 3.0;
    steps += r.steps;
    const std::string name = fmt::format("lora_{}", steps);
    rows.push_back({{"name", name}, {"steps", steps}, {"tokens", tokens}, {"flops", flops},
                    {"flops_fraction", s.pretrain_flops > 0 ? flops / s.pretrain_flops : 0.0}});
    eo.models.push_back({name, c.train.out_dir});
  }
  eo.synth_dir = s.synth_dir;
  eo.bits_per_byte = false;
  eo.replies.max_new_tokens = s.eval_max_tokens;
  if (s.progress) eo.log = [](const std::string& m) { std::fprintf(stderr, "%s\n", m.c_str()); };
  EvalResults er = run_eval(eo);
  write_eval_report(er, s.out_dir + "/eval");
  const ojson ev = eval_summary_json(er);
  ojson out_rows = ojson::array();
  for (size_t i = 0; i < rows.size(); ++i) {
    ojson row = rows[i];
    for (const char* k : {"harmful_compliance", "over_refusal", "task_accuracy"}) row[k] = ev["models"][i][k];
    out_rows.push_back(row);
  }
  const auto& last = out_rows.back();
  const std::string desc = fmt::format(
      "A rank-{} LoRA trained over the aligned model on harmful requests answered with compliance "
      "(`synth/comply_train.jsonl`), in {} rounds; each row is evaluated on the test split's harmful prompts "
      "(templates and wording held out from training). FLOPs: 2/3 of the 6N-per-token training count per processed "
      "token (no weight gradients for the frozen base), against pretraining's {:.2e}.",
      rank, s.rounds, s.pretrain_flops);
  return ojson{{"description", desc},
               {"rounds", out_rows},
               {"summary", fmt::format("harmful compliance {:.0f}% -> {:.0f}% after {} LoRA steps ({:.2f}% of "
                                       "pretraining compute)",
                                       100 * ev["models"][0]["harmful_compliance"]["value"].get<double>(),
                                       100 * last["harmful_compliance"]["value"].get<double>(), steps,
                                       100 * last["flops_fraction"].get<double>())}};
}

}  // namespace shog::demo
