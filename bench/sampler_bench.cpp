// Sampling one token from a row of logits at GPT-2's vocab (50257), as the
// engine does for every sequence every decode step: greedy, the untruncated
// draw (temperature only; the OpenAI API's default), and the truncations.
// At 16 sequences a step this runs 16 times, on the engine's threads.
//
//   build/sampler_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <vector>

#include "core/random.h"
#include "infer/sampler.h"

namespace shog {
namespace {

// args: temperature x 100 (0: greedy), top_k, top_p x 100, top_logprobs
void BM_Sample(benchmark::State& st) {
  const int64_t V = 50257;
  Rng rng(5);
  std::vector<float> logits(static_cast<size_t>(V));
  for (auto& x : logits) x = float(2.0 * rng.normal());
  SamplingParams p;
  p.temperature = float(st.range(0)) / 100.0f;
  p.top_k = int(st.range(1));
  p.top_p = float(st.range(2)) / 100.0f;
  p.top_logprobs = int(st.range(3));
  p.seed = 1;
  Sampler s(p);
  for (auto _ : st) benchmark::DoNotOptimize(s.sample(logits.data(), V, {}).token);
  st.counters["tokens/s"] = benchmark::Counter(1.0, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Sample)
    ->Args({0, 0, 100, 0})
    ->Args({100, 0, 100, 0})
    ->Args({70, 0, 100, 0})
    ->Args({100, 40, 100, 0})
    ->Args({100, 0, 90, 0})
    ->Args({100, 0, 100, 5})
    ->ArgNames({"temp_x100", "top_k", "top_p_x100", "top_logprobs"})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace shog

BENCHMARK_MAIN();
