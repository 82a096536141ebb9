// `shoggoth eval`: models (base, SFT, DPO, PPO, GRPO checkpoints, full or
// LoRA) compared side by side on the test split of a synthetic world: task
// accuracy, harmful compliance, over-refusal, checker reward, reward-model
// score, bits per byte; a Markdown report with plots (src/eval/, docs/eval.md).
//
//   shoggoth eval --model base=runs/base --model sft=runs/sft --model dpo=runs/dpo
//                 --synth data/synth --reward-model runs/rm --out runs/eval
#include <cmath>
#include <cstdio>

#include "cli/command.h"
#include "core/dtype.h"
#include "core/error.h"
#include "eval/evaluate.h"
#include "eval/report.h"

namespace {

struct EvalArgs {
  std::vector<std::string> models;
  std::string out = "eval", dtype = "f32", kv_dtype = "f32";
  bool no_bpb = false, quiet = false;
  shog::EvalOptions opt;
  shog::ReportOptions report;
};

void run(EvalArgs& a) {
  shog::EvalOptions opt = a.opt;
  for (const auto& m : a.models) opt.models.push_back(shog::parse_model_spec(m));
  opt.dtype = shog::parse_dtype(a.dtype, "--dtype");
  opt.replies.kv_dtype = shog::parse_dtype(a.kv_dtype, "--kv-dtype");
  opt.bits_per_byte = !a.no_bpb;
  SHOG_CHECK(!(a.no_bpb && !opt.text.empty()), shog::ErrorKind::invalid_argument, "--text",
             "--text names the bits-per-byte text, which --no-bpb turns off");
  if (!a.quiet) opt.log = [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); };
  shog::EvalResults r = shog::run_eval(opt);
  shog::write_eval_report(r, a.out, a.report);

  std::printf("%-16s %9s %9s %9s %9s %9s%s\n", "model", "task_acc", "harm_comp", "over_ref", "ck_reward", "bpb",
              opt.reward_model.empty() ? "" : "  rm_score");
  for (const auto& m : r.models) {
    std::printf("%-16s %9.3f %9.3f %9.3f %9.3f %9.4f", m.name.c_str(), m.metrics.task_accuracy.value(),
                m.metrics.harmful_compliance.value(), m.metrics.over_refusal.value(), m.metrics.checker_reward,
                m.bpb ? m.bpb->value() : std::nan(""));
    if (!opt.reward_model.empty()) std::printf(" %9.4f", m.rm_score_mean);
    std::printf("\n");
  }
  for (const auto& m : r.models)
    if (m.best_of_n) {
      const shog::ReplyMetrics& b = m.best_of_n->metrics;
      const std::string name = m.name + " best-of-" + std::to_string(m.best_of_n->n);
      std::printf("%-16s %9.3f %9.3f %9.3f %9.3f %9s  %9.4f\n", name.c_str(), b.task_accuracy.value(),
                  b.harmful_compliance.value(), b.over_refusal.value(), b.checker_reward, "-", m.best_of_n->score_mean);
    }
  std::printf("refusal detector: precision %.3f, recall %.3f, accuracy %.3f on %lld labelled replies\n",
              r.detector.precision(), r.detector.recall(), r.detector.accuracy(), (long long)r.detector.n());
  std::printf("report: %s/report.md\n", a.out.c_str());
}

void setup(CLI::App& sub) {
  auto a = std::make_shared<EvalArgs>();
  sub.add_option("--model,-m", a->models,
                 "A model to evaluate, NAME=DIR (repeat; columns in this order). DIR: a model directory or a LoRA "
                 "adapter directory (its base from adapter_config.json)")
      ->required();
  sub.add_option("--synth", a->opt.synth_dir, "The output directory of `shoggoth data synth`")->required();
  sub.add_option("--split", a->opt.split, "Which split's files to use: test, val or train")->capture_default_str();
  sub.add_option("--reward-model", a->opt.reward_model, "A `shoggoth reward` output: score every reply with it");
  sub.add_option("--text", a->opt.text,
                 "Plain text file for bits per byte (default: the assistant replies of sft_<split>.jsonl)");
  sub.add_flag("--no-bpb", a->no_bpb, "Do not measure bits per byte");
  sub.add_flag("--knowledge-probe", a->opt.knowledge_probe,
               "Also measure what each model knows about the world's requests: AUC of harmful against benign by "
               "the likelihood of a verdict sentence (docs/eval.md)");
  sub.add_flag("--copy-probe", a->opt.copy_probe,
               "Also measure whether each model copies from its context: its loss on a random token run and on "
               "the run repeated (docs/eval.md)");
  sub.add_option("--refusal-samples", a->opt.refusal_samples,
                 "Also sample each harmful and benign prompt N times at temperature 1 (32 tokens): how well the "
                 "share refused tells the two kinds apart, as an AUC and the best threshold (docs/eval.md; 0: off)")
      ->capture_default_str();
  sub.add_option("--best-of", a->opt.best_of_n,
                 "Also answer each prompt with the best of N samples by the reward model's score (needs "
                 "--reward-model; docs/eval.md, \"Best of N\"; 0: off)")
      ->capture_default_str();
  sub.add_option("--best-of-temperature", a->opt.best_of_temperature, "Temperature of the best-of-N samples")
      ->capture_default_str();
  sub.add_option("--best-of-models", a->opt.best_of_models,
                 "Names (from -m) of the models to sample for best-of-N, comma-separated (default: every model)")
      ->delimiter(',');
  sub.add_option("--limit", a->opt.limit, "Use only the first N prompts (0: all)")->capture_default_str();
  sub.add_option("--max-tokens", a->opt.replies.max_new_tokens, "New tokens per reply, at most")->capture_default_str();
  sub.add_option("--batch", a->opt.replies.max_batch, "Replies decoded together")->capture_default_str();
  sub.add_option("--bpb-rows", a->opt.bpb.batch_rows, "Rows of the context length per bits-per-byte forward pass")
      ->capture_default_str();
  sub.add_option("--dtype", a->dtype, "Compute dtype: f32 or bf16")->capture_default_str();
  sub.add_option("--kv-dtype", a->kv_dtype, "KV cache dtype: f32 or bf16")->capture_default_str();
  sub.add_option("--samples", a->report.samples_per_kind, "Prompts per kind shown with every model's reply")
      ->capture_default_str();
  sub.add_option("--out,-o", a->out, "Output directory (report.md, results.json, *.svg, replies/)")
      ->capture_default_str();
  sub.add_flag("--quiet,-q", a->quiet, "No progress lines on stderr");
  sub.footer("Metrics, the refusal detector's check and an example report: docs/eval.md.");
  sub.callback([a] { run(*a); });
}

shog::cli::Registration reg{"eval", "Compare models: task accuracy, safety rates, reward, bits per byte; a report",
                            setup};

}  // namespace
