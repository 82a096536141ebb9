#include "demo/demo.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>

#include <fmt/format.h>

#include "align/dpo.h"
#include "align/grpo.h"
#include "align/ppo.h"
#include "align/reward.h"
#include "align/sft.h"
#include "core/error.h"
#include "core/file_io.h"
#include "data/prepare.h"
#include "data/records.h"
#include "data/synth/knowledge.h"
#include "data/synth/world.h"
#include "demo/erosion.h"
#include "demo/platform_files.h"
#include "demo/stage_runner.h"
#include "demo/summary.h"
#include "eval/evaluate.h"
#include "eval/report.h"
#include "model/model_config.h"
#include "tokenizer/bpe_trainer.h"
#include "train/config_fields.h"
#include "train/pretrain.h"

namespace shog::demo {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

// A trainer's settings from <recipe>/<stage>.toml, then the demo's paths
// (`fill`); returns the effective configuration as TOML (the stage's key
// for resuming: change a setting and the stage runs again).
template <class Cfg>
std::string load_recipe(Cfg& cfg, const DemoOptions& opt, const std::string& stage, const std::function<void(Cfg&)>& fill) {
  const std::string file = opt.recipe + "/" + stage + ".toml";
  SHOG_CHECK(file_exists(file), ErrorKind::invalid_argument, file,
             "no such file (--recipe names a directory with one TOML file per stage)");
  ConfigFields f;
  cfg.register_fields(f);
  f.load_toml(file);
  fill(cfg);
  return f.to_toml();
}

void share_run_settings(AlignTrainSettings& t, const DemoOptions& opt, const std::string& out_dir) {
  t.threads = opt.threads;
  t.seed = int64_t(opt.seed);
  t.out_dir = out_dir;
}

// A stage that runs again starts from nothing: what an interrupted or
// differently configured earlier run left behind must not leak into it.
void clear_dir(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  SHOG_CHECK(!ec, ErrorKind::io, dir, "cannot remove ({})", ec.message());
}

// --fresh deletes the run directory, but only one that looks like a demo's.
void start_fresh(const std::string& dir) {
  if (!fs::exists(dir)) return;
  SHOG_CHECK(fs::exists(dir + "/stages") || fs::is_empty(dir), ErrorKind::invalid_argument, dir,
             "--fresh deletes the run directory, and this one is not empty and has no stages/ (not a demo run)");
  clear_dir(dir);
}

std::string fmt_or_dash(double v, const char* f) { return v < 0 ? "-" : fmt::format(fmt::runtime(f), v); }

}  // namespace

DemoResult run_demo(const DemoOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  SHOG_CHECK(opt.aligned == "ppo" || opt.aligned == "dpo" || opt.aligned == "sft" || (opt.aligned == "grpo" && opt.grpo),
             ErrorKind::invalid_argument, "--aligned", "must be sft, dpo, ppo, or grpo with --grpo (got '{}')",
             opt.aligned);
  SHOG_CHECK(opt.erosion_rounds >= 1, ErrorKind::invalid_argument, "--erosion-rounds", "must be >= 1");
  SHOG_CHECK(file_exists(opt.policies), ErrorKind::invalid_argument, opt.policies, "no such moderation policy file");
  auto corpus = corpus_files(opt.corpus, CorpusFormat::text);
  SHOG_CHECK(!corpus.empty(), ErrorKind::invalid_argument, "--corpus",
             "no *.txt files under {} (scripts/build_corpus.sh assembles data/corpus from Debian packages)",
             fmt::join(opt.corpus, ", "));
  if (opt.fresh) start_fresh(opt.out_dir);
  make_dirs(opt.out_dir);
  const std::string out = opt.out_dir;
  const std::string synth = out + "/synth";

  // Load (and so check) every recipe file before the first stage runs: a
  // typo in the last one must not cost the first fifteen minutes.
  PretrainConfig pre;
  const std::string pre_toml = load_recipe<PretrainConfig>(pre, opt, "pretrain", [&](PretrainConfig& c) {
    c.tokenizer = out + "/tokenizer.json";
    c.out_dir = out + "/pretrain";
    c.threads = opt.threads;
    c.seed = int64_t(opt.seed);
  });
  SHOG_CHECK(pre.vocab > 0, ErrorKind::invalid_argument, opt.recipe + "/pretrain.toml",
             "model.vocab must be set: it is also the size of the tokenizer the demo trains");
  const std::string base_dir = fmt::format("{}/pretrain/step_{:06d}", out, pre.steps);
  SftConfig sft;
  const std::string sft_toml = load_recipe<SftConfig>(sft, opt, "sft", [&](SftConfig& c) {
    c.model.init = base_dir;
    c.train.train_data = synth + "/sft_train.jsonl", c.train.val_data = synth + "/sft_val.jsonl";
    share_run_settings(c.train, opt, out + "/sft");
  });
  RewardConfig rm;
  const std::string rm_toml = load_recipe<RewardConfig>(rm, opt, "reward", [&](RewardConfig& c) {
    c.model.init = out + "/sft";
    c.train.train_data = synth + "/prefs_train.jsonl", c.train.val_data = synth + "/prefs_val.jsonl";
    share_run_settings(c.train, opt, out + "/reward");
  });
  DpoConfig dpo;
  const std::string dpo_toml = load_recipe<DpoConfig>(dpo, opt, "dpo", [&](DpoConfig& c) {
    c.model.init = out + "/sft";
    c.train.train_data = synth + "/prefs_train.jsonl", c.train.val_data = synth + "/prefs_val.jsonl";
    share_run_settings(c.train, opt, out + "/dpo");
  });
  PpoConfig ppo;
  const std::string ppo_toml = load_recipe<PpoConfig>(ppo, opt, "ppo", [&](PpoConfig& c) {
    c.model.init = out + "/sft";
    if (c.reward.kind != "checker") c.reward.reward_model = out + "/reward";
    c.train.train_data = synth + "/rl_train.jsonl";
    share_run_settings(c.train, opt, out + "/ppo");
  });
  GrpoConfig grpo;
  std::string grpo_toml;
  if (opt.grpo)
    grpo_toml = load_recipe<GrpoConfig>(grpo, opt, "grpo", [&](GrpoConfig& c) {
      c.model.init = out + "/sft";
      if (c.reward.kind != "checker") c.reward.reward_model = out + "/reward";
      c.train.train_data = synth + "/rl_train.jsonl";
      share_run_settings(c.train, opt, out + "/grpo");
    });
  // Progress lines change no result, so they are set after the resume keys
  // were taken: `-q` must not make a finished stage run again.
  pre.progress = opt.progress;
  for (AlignTrainSettings* t : {&sft.train, &rm.train, &dpo.train, &ppo.train, &grpo.train})
    t->progress = opt.progress;

  ErosionSetup ero;
  ero.recipe_file = opt.recipe + "/erosion.toml";
  ero.aligned_dir = out + "/" + opt.aligned;
  ero.synth_dir = synth;
  ero.out_dir = out + "/erosion";
  ero.rounds = opt.erosion_rounds;
  ero.threads = opt.threads;
  ero.progress = opt.progress;
  ero.seed = opt.seed;
  ero.eval_max_tokens = opt.eval_max_tokens;
  const std::string ero_toml = erosion_recipe(ero);  // checks the file

  SHOG_CHECK(opt.knowledge_passes >= 0 && opt.knowledge_passes <= 1000, ErrorKind::invalid_argument,
             "--knowledge-passes", "must be 0..1000 (got {})", opt.knowledge_passes);
  const int total = 11 + (opt.grpo ? 1 : 0);
  StageRunner stages(out, total, opt.progress);

  // The world's knowledge text joins the pretraining corpus (knowledge.h says why).
  const std::string knowledge = out + "/knowledge.txt";
  stages.run("knowledge", "the world's knowledge text, for pretraining",
             fmt::format("seed = {}\npasses = {}\nversion = {}\n", opt.seed, opt.knowledge_passes,
                         synth::kKnowledgeVersion),
             {}, [&] {
               std::string text, summary = "left out (--knowledge-passes 0)";
               if (opt.knowledge_passes > 0) {
                 text = synth::world_knowledge_text({.seed = opt.seed, .passes = opt.knowledge_passes});
                 summary = fmt::format("{:.2f} MB, every request described {} times", double(text.size()) / 1e6,
                                       opt.knowledge_passes);
               }
               write_file_atomic(knowledge, text);
               return ojson{{"bytes", text.size()}, {"passes", opt.knowledge_passes}, {"summary", summary}};
             });
  if (opt.knowledge_passes > 0) corpus.push_back(knowledge);

  std::string corpus_key = fmt::format("vocab = {}\nval_fraction = {}\nfiles = [", pre.vocab, opt.val_fraction);
  uint64_t corpus_bytes = 0;
  for (const auto& f : corpus) corpus_key += fmt::format("\"{}\" {}, ", f, fs::file_size(f)), corpus_bytes += fs::file_size(f);
  corpus_key += "]\n";
  stages.run("tokenizer", "tokenizer: byte-level BPE on the corpus", corpus_key, {"knowledge"}, [&] {
    BpeTrainOptions o;
    o.vocab_size = int32_t(pre.vocab);
    o.threads = int(opt.threads);
    o.progress = opt.progress;
    train_bpe(corpus, o).save(out + "/tokenizer.json");
    return ojson{{"vocab", pre.vocab}, {"files", corpus.size()}, {"bytes", corpus_bytes},
                 {"summary", fmt::format("{} tokens from {} files, {:.1f} MB", pre.vocab, corpus.size(),
                                         double(corpus_bytes) / 1e6)}};
  });
  stages.run("shards", "token shards", corpus_key, {"knowledge", "tokenizer"}, [&] {
    clear_dir(out + "/shards");
    PrepareOptions p;
    p.tokenizer = out + "/tokenizer.json";
    p.inputs = corpus;
    p.out_dir = out + "/shards";
    p.val_fraction = opt.val_fraction;
    p.threads = int(opt.threads);
    p.progress = opt.progress;
    PrepareSummary s = prepare_shards(p);
    return ojson{{"train_tokens", s.train.tokens}, {"val_tokens", s.val.tokens},
                 {"summary", fmt::format("{:.2f} M training tokens, {:.2f} M validation", double(s.train.tokens) / 1e6,
                                         double(s.val.tokens) / 1e6)}};
  });
  pre.train_shards = prepared_shards(out + "/shards", "train");
  pre.val_shards = prepared_shards(out + "/shards", "val");
  const double pretrain_tokens = double(pre.steps * pre.batch_size * pre.seq_len * pre.grad_accum);
  const double pretrain_flops = pre.model_config().train_flops_per_token(pre.seq_len) * pretrain_tokens;
  stages.run("pretrain", "pretraining the base model", pre_toml, {"tokenizer", "shards"}, [&] {
    clear_dir(pre.out_dir);
    PretrainResult r = run_pretrain(pre, false);
    SHOG_CHECK(r.checkpoint_dir == base_dir || fs::equivalent(r.checkpoint_dir, base_dir), ErrorKind::internal,
               "pretrain", "final checkpoint {} is not {}", r.checkpoint_dir, base_dir);
    return ojson{{"steps", r.steps_done}, {"train_loss", r.final_train_loss}, {"val_loss", r.final_val_loss},
                 {"tokens", pretrain_tokens}, {"flops", pretrain_flops}, {"tokens_per_s", r.tokens_per_second},
                 {"mfu", r.mfu},
                 {"summary", fmt::format("{} steps, {:.2f} M tokens; loss {:.3f}, validation {}; {:.0f} tok/s, MFU {:.1f}%",
                                         r.steps_done, pretrain_tokens / 1e6, r.final_train_loss,
                                         fmt_or_dash(r.final_val_loss, "{:.3f}"), r.tokens_per_second, 100 * r.mfu)}};
  });
  synth::WorldOptions wo;
  wo.seed = opt.seed;
  wo.prompts = opt.synth_prompts;
  stages.run("synth", "the synthetic assistant world",
             fmt::format("seed = {}\nprompts = [{}, {}, {}]\n", wo.seed, wo.prompts[0], wo.prompts[1], wo.prompts[2]),
             {}, [&] {
               clear_dir(synth);
               auto manifest = synth::write_world(synth::generate_world(wo), wo, synth);
               return ojson{{"prompts", manifest["prompts"]},
                            {"summary", fmt::format("{} / {} / {} prompts (train / val / test)", wo.prompts[0],
                                                    wo.prompts[1], wo.prompts[2])}};
             });
  stages.run("sft", "SFT: supervised instruction tuning", sft_toml, {"pretrain", "synth"}, [&] {
    clear_dir(sft.train.out_dir);
    SftResult r = run_sft(sft);
    return ojson{{"steps", r.steps}, {"train_loss", r.final_loss}, {"val_loss", r.val_loss},
                 {"tokens_per_s", r.tokens_per_s},
                 {"summary", fmt::format("{} steps; loss {:.3f}, validation {}", r.steps, r.final_loss,
                                         fmt_or_dash(r.val_loss, "{:.3f}"))}};
  });
  stages.run("reward", "reward model (Bradley-Terry)", rm_toml, {"sft", "synth"}, [&] {
    clear_dir(rm.train.out_dir);
    RewardResult r = run_reward(rm);
    RewardModel model = RewardModel::load(rm.train.out_dir, DType::bf16);
    const auto test = read_preferences(synth + "/prefs_test.jsonl");
    const std::vector<double> scores = model.score_pairs(test);
    const PairAccuracy acc = pair_accuracy(scores);
    // Where the errors are: each kind of rejected reply asks something else of
    // the model (knowing a held-out request is harmful, checking a sum).
    ojson by = ojson::array();
    for (const auto& [bad_type, a] : pair_accuracy_by(test, scores, {"bad_type"}))
      by.push_back({{"bad_type", bad_type}, {"correct", a.correct}, {"pairs", a.scored}, {"accuracy", a.value()}});
    return ojson{{"steps", r.steps}, {"val_accuracy", r.val_accuracy}, {"test_accuracy", acc.value()},
                 {"test_pairs", acc.scored}, {"test_accuracy_by_bad_type", by},
                 {"summary", fmt::format("{} steps; pairwise accuracy: validation {}, test {:.3f} ({} pairs)", r.steps,
                                         fmt_or_dash(r.val_accuracy, "{:.3f}"), acc.value(), acc.scored)}};
  });
  stages.run("dpo", "DPO", dpo_toml, {"sft", "synth"}, [&] {
    clear_dir(dpo.train.out_dir);
    DpoResult r = run_dpo(dpo);
    return ojson{{"steps", r.steps}, {"val_accuracy", r.val_accuracy}, {"val_margin", r.val_margin},
                 {"summary", fmt::format("{} steps; validation reward accuracy {}, margin {:.2f}", r.steps,
                                         fmt_or_dash(r.val_accuracy, "{:.3f}"), r.val_margin)}};
  });
  stages.run("ppo", "PPO against the reward model", ppo_toml, {"sft", "reward", "synth"}, [&] {
    clear_dir(ppo.train.out_dir);
    PpoResult r = run_ppo(ppo);
    const double busy = std::max(1e-9, r.generate_seconds + r.score_seconds + r.train_seconds);
    return ojson{{"steps", r.steps}, {"first_score", r.first_score}, {"final_score", r.final_score},
                 {"final_kl", r.final_kl}, {"kl_coef", r.kl_coef}, {"generate_s", r.generate_seconds},
                 {"score_s", r.score_seconds}, {"train_s", r.train_seconds},
                 {"summary", fmt::format("{} iterations; reward {:.3f} -> {:.3f} (first and last 5), KL {:.3f}; {:.1f} s/iteration: "
                                         "{:.0f}% generating, {:.0f}% scoring, {:.0f}% training",
                                         r.steps, r.first_score, r.final_score, r.final_kl,
                                         r.seconds / double(std::max<int64_t>(r.steps, 1)),
                                         100 * r.generate_seconds / busy, 100 * r.score_seconds / busy,
                                         100 * r.train_seconds / busy)}};
  });
  if (opt.grpo)
    stages.run("grpo", "GRPO", grpo_toml, {"sft", "synth"}, [&] {
      clear_dir(grpo.train.out_dir);
      GrpoResult r = run_grpo(grpo);
      return ojson{{"steps", r.steps}, {"first_reward", r.first_reward}, {"final_reward", r.final_reward},
                   {"final_accuracy", r.final_accuracy},
                   {"summary", fmt::format("{} steps; reward {:.3f} -> {:.3f} (first and last 5)", r.steps, r.first_reward,
                                           r.final_reward)}};
    });

  EvalOptions eo;
  eo.models = {{"base", base_dir}, {"sft", out + "/sft"}, {"dpo", out + "/dpo"}, {"ppo", out + "/ppo"}};
  if (opt.grpo) eo.models.push_back({"grpo", out + "/grpo"});
  eo.synth_dir = synth;
  eo.reward_model = out + "/reward";
  eo.replies.max_new_tokens = opt.eval_max_tokens;
  eo.knowledge_probe = true;
  eo.copy_probe = true;
  eo.refusal_samples = 8;
  eo.best_of_n = 8;
  // Every chat model; a base model's best of 8 continuations says nothing about an assistant, and its samples
  // would cost a fifth of the stage.
  for (const auto& m : eo.models)
    if (m.name != "base") eo.best_of_models.push_back(m.name);
  if (opt.progress) eo.log = [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); };
  std::string eval_key =
      fmt::format("max_new_tokens = {}\nknowledge_probe = true\ncopy_probe = true\nrefusal_samples = {}\n"
                  "best_of_n = {}\nbest_of_models = [{}]\nmodels = [",
                  opt.eval_max_tokens, eo.refusal_samples, eo.best_of_n, fmt::join(eo.best_of_models, ", "));
  for (const auto& m : eo.models) eval_key += m.name + ", ";
  eval_key += "]\n";
  std::vector<std::string> eval_reads{"pretrain", "synth", "sft", "reward", "dpo", "ppo"};
  if (opt.grpo) eval_reads.push_back("grpo");
  stages.run("eval", "evaluation: every stage side by side", eval_key, eval_reads, [&] {
    clear_dir(out + "/eval");
    EvalResults r = run_eval(eo);
    write_eval_report(r, out + "/eval");
    return eval_summary_json(r);
  });
  ero.pretrain_flops = pretrain_flops;
  ero.pretrain_tokens = pretrain_tokens;
  stages.run("erosion", "fine-tune erosion: a LoRA on harmful compliance over the aligned model", ero_toml,
             {"synth", opt.aligned}, [&] { return run_erosion(ero); });

  DemoResult res;
  PlatformFiles pf = write_platform_files(out, base_dir, out + "/" + opt.aligned, opt.policies);
  res.platform_toml = pf.config;
  res.keys_file = pf.keys;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.summary_md = write_summary(out, stages.records(), opt.aligned, res.seconds);
  return res;
}

}  // namespace shog::demo
