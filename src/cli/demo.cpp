// `shoggoth demo`: the whole cake at small scale, then (unless --no-serve)
// the platform serving what it made. docs/demo.md.
#include <cstdio>

#include "cli/command.h"
#include "core/error.h"
#include "core/file_io.h"
#include "demo/demo.h"
#include "serve/config.h"
#include "serve/platform.h"

namespace {

struct DemoArgs {
  shog::demo::DemoOptions opt;
  bool no_serve = false, quiet = false;
  std::string host = "127.0.0.1";
  int port = 8080;
};

void run(DemoArgs& a) {
  a.opt.progress = !a.quiet;
  shog::demo::DemoResult r = shog::demo::run_demo(a.opt);
  std::printf("\n%s\n", r.summary_md.c_str());
  std::printf("summary: %s/summary.md   evaluation: %s/eval/report.md   total %.0f s\n", a.opt.out_dir.c_str(),
              a.opt.out_dir.c_str(), r.seconds);
  if (a.no_serve) {
    std::printf("serve it later: shoggoth serve --config %s   (keys: %s)\n", r.platform_toml.c_str(),
                r.keys_file.c_str());
    return;
  }
  auto cfg = shog::serve::PlatformConfig::load(r.platform_toml);
  cfg.server.host = a.host;
  cfg.server.port = a.port;
  shog::serve::PlatformRunOptions ro;
  ro.on_listening = [&](int port) {
    std::printf("deployments: base (research tier only), assistant (moderate), kids (strict)\n"
                "API keys in %s\nchat page: http://%s:%d/   Ctrl-C stops the server\n",
                r.keys_file.c_str(), a.host.c_str(), port);
    std::fflush(stdout);
  };
  shog::serve::run_platform(cfg, ro);
}

void setup(CLI::App& sub) {
  auto a = std::make_shared<DemoArgs>();
  auto& o = a->opt;
  sub.add_option("--out,-o", o.out_dir, "Run directory (everything goes here; finished stages are kept)")
      ->capture_default_str();
  sub.add_option("--corpus", o.corpus, "Pretraining text: files or directories of *.txt")->capture_default_str();
  sub.add_option("--recipe", o.recipe,
                 "Directory of stage configs: pretrain, sft, reward, dpo, ppo, grpo, erosion .toml")
      ->capture_default_str();
  sub.add_option("--policies", o.policies, "Moderation policies for the served deployments")->capture_default_str();
  sub.add_flag("--grpo", o.grpo, "Also run GRPO (recipe grpo.toml) and evaluate it");
  sub.add_option("--aligned", o.aligned, "Which stage's model is the aligned one: ppo, dpo, sft or grpo")
      ->capture_default_str();
  sub.add_option("--erosion-rounds", o.erosion_rounds, "LoRA rounds of the erosion experiment")->capture_default_str();
  sub.add_option("--eval-max-tokens", o.eval_max_tokens, "New tokens per evaluated reply")->capture_default_str();
  sub.add_option("--val-fraction", o.val_fraction, "Share of the corpus held out for validation")->capture_default_str();
  sub.add_option("--synth-train", o.synth_prompts[0], "Synthetic world: training prompts")->capture_default_str();
  sub.add_option("--synth-val", o.synth_prompts[1], "Synthetic world: validation prompts")->capture_default_str();
  sub.add_option("--synth-test", o.synth_prompts[2], "Synthetic world: test prompts")->capture_default_str();
  sub.add_option("--knowledge-passes", o.knowledge_passes,
                 "Times the world's knowledge text describes each request in the pretraining corpus (0: none)")
      ->capture_default_str();
  sub.add_option("--seed", o.seed, "Seed of every stage")->capture_default_str();
  sub.add_option("--threads", o.threads, "Threads (0: all cores)")->capture_default_str();
  sub.add_flag("--fresh", o.fresh, "Delete the run directory's earlier results and start over");
  sub.add_flag("--no-serve", a->no_serve, "Stop after the summary instead of serving the models");
  sub.add_option("--host", a->host, "Address to serve on")->capture_default_str();
  sub.add_option("--port", a->port, "Port to serve on (0: any free port)")->capture_default_str();
  sub.add_flag("--quiet,-q", a->quiet, "No progress lines");
  sub.footer(
      "Stages: tokenizer, shards, pretrain, synth, sft, reward, dpo, ppo, [grpo], eval, erosion; then the\n"
      "summary (summary.md) and, unless --no-serve, the serving platform (platform.toml, api_keys.txt).\n"
      "A stage that finished in an earlier run with the same settings is kept, so an interrupted demo\n"
      "resumes. Run directory layout and the recipe: docs/demo.md.");
  sub.callback([a] { run(*a); });
}

shog::cli::Registration reg{"demo", "The whole cake at small scale: pretrain, align, evaluate, erode, serve", setup};

}  // namespace
