// Inference throughput of the model over the paged KV cache
// (Transformer::forward_cached), the engine's hot path:
//   prefill:  one 512-token prompt in one call, tokens/s
//   decode:   batch 1 and batch 16, each sequence one token per step after a
//             128-token prompt, tokens/s over all sequences (context grows
//             from 128 to 128 + steps)
// for a preset (default d12, random init) in f32 and bf16. Greedy argmax
// between steps; sampling is not timed (the engine adds ~0.1 ms per token).
// Prints one JSON line per measurement.
//
//   build-infer/decode_bench [--preset d12] [--dtype f32,bf16] [--kv-dtype f32|bf16] [--prompt 512]
//                            [--context 128] [--steps 32] [--batch 1,16] [--reps 3]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "core/random.h"
#include "model/kv_cache.h"
#include "model/transformer.h"

using namespace shog;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> t;
  for (int64_t i = 0; i < n; ++i) t.push_back(int32_t(rng.below(uint64_t(vocab))));
  return t;
}

// Best of `reps` prefills of a P-token prompt into an empty sequence.
DType g_kv = DType::f32;

double prefill_tps(Transformer& m, int64_t P, int reps) {
  KvBlockPool kv(m.config(), (P + 15) / 16 + 1, 16, g_kv);
  auto toks = random_tokens(P, m.config().vocab, 1);
  std::vector<float> logits(size_t(m.config().vocab));
  double best = 1e30;
  for (int r = 0; r < reps + 1; ++r) {  // the first run creates the GEMM primitives
    auto s = kv.create_sequence();
    Transformer::CachedTokens e{s, {toks.data(), size_t(P)}, false};
    auto t0 = Clock::now();
    m.forward_cached(kv, {&e, 1}, logits.data());
    if (r > 0) best = std::min(best, seconds_since(t0));
    kv.free_sequence(s);
  }
  return double(P) / best;
}

// B sequences, prompt P0 each, then `steps` decode steps of the whole batch.
double decode_tps(Transformer& m, int64_t B, int64_t P0, int64_t steps, int reps) {
  const int64_t V = m.config().vocab;
  KvBlockPool kv(m.config(), B * ((P0 + steps + 15) / 16 + 1), 16, g_kv);
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    std::vector<KvSeqId> ids;
    std::vector<int32_t> next(static_cast<size_t>(B));
    std::vector<float> logits(size_t(B * V));
    for (int64_t b = 0; b < B; ++b) {
      ids.push_back(kv.create_sequence());
      auto p = random_tokens(P0, V, 10 + uint64_t(b));
      Transformer::CachedTokens e{ids.back(), {p.data(), size_t(P0)}, false};
      m.forward_cached(kv, {&e, 1}, logits.data());
      next[size_t(b)] = int32_t(std::max_element(logits.begin(), logits.begin() + V) - logits.begin());
    }
    std::vector<Transformer::CachedTokens> batch;
    for (int64_t b = 0; b < B; ++b) batch.push_back({ids[size_t(b)], {&next[size_t(b)], 1}, false});
    m.forward_cached(kv, batch, logits.data());  // warm-up step (GEMM primitives for M = B)
    auto t0 = Clock::now();
    for (int64_t k = 0; k < steps; ++k) {
      for (int64_t b = 0; b < B; ++b) {
        const float* row = logits.data() + b * V;
        next[size_t(b)] = int32_t(std::max_element(row, row + V) - row);
      }
      m.forward_cached(kv, batch, logits.data());
    }
    best = std::min(best, seconds_since(t0));
    for (auto id : ids) kv.free_sequence(id);
  }
  return double(B * steps) / best;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Inference throughput of a preset model (random init) over the paged KV cache "
               "(Transformer::forward_cached): prefill of one prompt in one call, then batched greedy decode, one "
               "token per sequence per step after a shorter prompt, in each dtype. Prints one JSON line per "
               "measurement (tokens/s).",
               "decode_bench"};
  std::string preset = "d12", kv_dtype = "f32";
  std::vector<std::string> dtypes = {"f32", "bf16"};
  std::vector<int64_t> batches = {1, 16};
  int64_t P = 512, steps = 32, P0 = 128;
  int reps = 3;
  app.add_option("--preset", preset, "Model preset (tiny, small, d12, d24)")->capture_default_str();
  app.add_option("--dtype", dtypes, "Weight dtypes to run, comma-separated")->delimiter(',')->capture_default_str();
  app.add_option("--kv-dtype", kv_dtype, "KV cache dtype: f32 or bf16")->capture_default_str();
  app.add_option("--prompt", P, "Prefill prompt length (tokens)")->capture_default_str();
  app.add_option("--context", P0, "Prompt length of each sequence before decode (tokens)")->capture_default_str();
  app.add_option("--steps", steps, "Timed decode steps")->capture_default_str();
  app.add_option("--batch", batches, "Decode batch sizes, comma-separated")->delimiter(',')->capture_default_str();
  app.add_option("--reps", reps, "Repetitions; the best is reported")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  // Checked here so that a typo fails at once, not after the runs before it.
  ModelConfig cfg;
  try {
    cfg = model_preset(preset);
    g_kv = parse_dtype(kv_dtype, "--kv-dtype");
    for (const auto& dts : dtypes) parse_dtype(dts, "--dtype");
  } catch (const Error& e) {
    std::fprintf(stderr, "decode_bench: %s\n", e.what());
    return 2;
  }
  double load[3] = {0, 0, 0};
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
    std::fclose(f);
  }
  for (const auto& dts : dtypes) {
    DType dt = parse_dtype(dts, "--dtype");
    Transformer m(cfg, dt);
    m.init_weights(1);
    const double pf = prefill_tps(m, P, reps);
    std::printf("{\"bench\":\"prefill\",\"preset\":\"%s\",\"dtype\":\"%s\",\"prompt\":%lld,\"tokens_per_s\":%.1f,"
                "\"kv\":\"%s\",\"threads\":%d,\"load1\":%.2f}\n",
                preset.c_str(), dts.c_str(), (long long)P, pf, std::string(dtype_name(g_kv)).c_str(),
                omp_get_max_threads(), load[0]);
    std::fflush(stdout);
    for (const int64_t B : batches) {
      const double d = decode_tps(m, B, P0, steps, reps);
      std::printf("{\"bench\":\"decode\",\"preset\":\"%s\",\"dtype\":\"%s\",\"batch\":%lld,\"context\":%lld,"
                  "\"steps\":%lld,\"tokens_per_s\":%.1f,\"kv\":\"%s\",\"threads\":%d,\"load1\":%.2f}\n",
                  preset.c_str(), dts.c_str(), (long long)B, (long long)P0, (long long)steps, d,
                  std::string(dtype_name(g_kv)).c_str(), omp_get_max_threads(), load[0]);
      std::fflush(stdout);
    }
  }
  return 0;
}
