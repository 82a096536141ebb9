// One full training step (forward, backward, AdamW) of a preset model,
// timed in f32 and bf16, with MFU against the GEMM peak measured in the same
// run. The d12 default is the configuration docs/benchmarks.md reports;
// bench/pytorch_step.py times the same step in PyTorch.
//
//   build/train_step_bench [--preset d12] [--batch 4] [--seq 256] [--steps 5] [--warmup 2] [--dtype f32,bf16]
//                          [--lora-rank 0] [--optimizer adamw|muon]
//
// --lora-rank R > 0 times a LoRA step instead: an adapter of rank R on all
// seven projections, the base frozen, AdamW on the adapter only. (MFU there
// still counts the full model's FLOPs, so it is only comparable between runs.)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <omp.h>

#include "core/error.h"
#include "core/random.h"
#include "model/lora.h"
#include "model/transformer.h"
#include "ops/gemm_peak.h"
#include "train/adamw_optimizer.h"
#include "train/muon_optimizer.h"

using namespace shog;

int main(int argc, char** argv) {
  CLI::App app{"One full training step (forward, backward, AdamW) of a preset model (random init), timed in f32 and "
               "bf16, with MFU against the GEMM peak measured in the same run; prints JSON lines. With --lora-rank "
               "R > 0 it times a LoRA step instead: an adapter of rank R on all seven projections, the base frozen "
               "(MFU still counts the full model's FLOPs). bench/pytorch_step.py times the same step in PyTorch.",
               "train_step_bench"};
  std::string preset = "d12";
  std::vector<std::string> dtypes = {"f32", "bf16"};
  int64_t B = 4, T = 256, steps = 5, warmup = 2, lora_rank = 0;
  std::string optimizer = "adamw";
  app.add_option("--preset", preset, "Model preset (tiny, small, d12, d24)")->capture_default_str();
  app.add_option("--batch", B, "Sequences per step")->capture_default_str();
  app.add_option("--seq", T, "Tokens per sequence")->capture_default_str();
  app.add_option("--steps", steps, "Timed steps")->capture_default_str();
  app.add_option("--warmup", warmup, "Untimed steps before them")->capture_default_str();
  // The step runs in these two only, always f32 first, whatever the order given.
  app.add_option("--dtype", dtypes, "Dtypes to time, comma-separated")
      ->delimiter(',')
      ->check(CLI::IsMember({"f32", "bf16"}))
      ->capture_default_str();
  app.add_option("--lora-rank", lora_rank, "LoRA adapter rank; 0 times the full-model step")->capture_default_str();
  app.add_option("--optimizer", optimizer, "adamw, or muon (Muon on the layers' matrices, AdamW on the rest)")
      ->check(CLI::IsMember({"adamw", "muon"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  ModelConfig cfg;
  try {
    cfg = model_preset(preset);
  } catch (const Error& e) {
    std::fprintf(stderr, "train_step_bench: %s\n", e.what());
    return 2;
  }
  const int64_t N = B * T;
  Rng rng(1);
  const size_t n = size_t(N);
  std::vector<int32_t> in(n), tg(n);
  for (auto& x : in) x = int32_t(rng.below(uint64_t(cfg.vocab)));
  for (auto& x : tg) x = int32_t(rng.below(uint64_t(cfg.vocab)));
  std::vector<float> w(n, 1.0f / float(N));
  const double flops = cfg.train_flops_per_token(T) * double(N);
  std::printf("{\"preset\":\"%s\",\"params\":%lld,\"batch\":%lld,\"seq\":%lld,\"threads\":%d,\"flops_per_step\":%.4g}\n",
              preset.c_str(), (long long)cfg.num_params(), (long long)B, (long long)T, omp_get_max_threads(), flops);
  for (std::string dts : {std::string("f32"), std::string("bf16")}) {
    if (std::find(dtypes.begin(), dtypes.end(), dts) == dtypes.end()) continue;
    DType dt = parse_dtype(dts, "--dtype");
    const double peak = ops::measure_gemm_peak_flops(dt, 1.0, 2048);
    Transformer model(cfg, dt);
    model.init_weights(1);
    AdamWOptimizer opt(model.table(), {3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f});
    MuonOptimizer muon(opt, MuonHyper{});
    LoraConfig lc;
    lc.rank = std::max<int64_t>(lora_rank, 1);
    lc.targets = {LoraTarget::q, LoraTarget::k, LoraTarget::v, LoraTarget::o, LoraTarget::gate, LoraTarget::up,
                  LoraTarget::down};
    LoraAdapter adapter(cfg, lc);
    adapter.init(2);
    AdamWOptimizer lora_opt(adapter.table(), {3e-4f, 0.9f, 0.95f, 1e-8f, 0.0f});
    if (lora_rank > 0) model.attach_lora(&adapter);
    double best = 1e30, total = 0;
    double t_fwd = 0, t_bwd = 0, t_opt = 0;
    for (int64_t s = 0; s < warmup + steps; ++s) {
      auto t0 = std::chrono::steady_clock::now();
      if (lora_rank > 0)
        adapter.zero_grad();
      else
        model.zero_grad();
      model.forward(in.data(), B, T);
      auto t1 = std::chrono::steady_clock::now();
      model.cross_entropy_backward(tg.data(), w.data());
      auto t2 = std::chrono::steady_clock::now();
      if (lora_rank > 0)
        lora_opt.step(adapter.params(), adapter.grads(), 3e-4, 1.0f);
      else if (optimizer == "muon")
        muon.step(model.params(), model.grads(), 3e-4, 0.02, 1.0f, model.params16());
      else
        opt.step(model.params(), model.grads(), 3e-4, 1.0f, model.params16());
      auto t3 = std::chrono::steady_clock::now();
      double sec = std::chrono::duration<double>(t3 - t0).count();
      if (s >= warmup) {
        best = std::min(best, sec), total += sec;
        t_fwd += std::chrono::duration<double>(t1 - t0).count();
        t_bwd += std::chrono::duration<double>(t2 - t1).count();
        t_opt += std::chrono::duration<double>(t3 - t2).count();
      }
    }
    const double mean = total / double(steps);
    std::printf(
        "{\"impl\":\"shoggoth\",\"lora_rank\":%lld,\"dtype\":\"%s\",\"ms_per_step\":%.1f,\"best_ms\":%.1f,\"tokens_per_s\":%.1f,"
        "\"gemm_peak_gflops\":%.1f,\"achieved_gflops\":%.1f,\"mfu\":%.3f,\"fwd_ms\":%.1f,\"head_and_bwd_ms\":%.1f,"
        "\"optimizer\":\"%s\",\"optimizer_ms\":%.1f}\n",
        (long long)lora_rank, dts.c_str(), 1e3 * mean, 1e3 * best, double(N) / mean, peak / 1e9, flops / mean / 1e9, flops / mean / peak,
        1e3 * t_fwd / double(steps), 1e3 * t_bwd / double(steps), optimizer.c_str(),
        1e3 * t_opt / double(steps));
    std::fflush(stdout);
  }
  return 0;
}
