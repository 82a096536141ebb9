// Throughput of the heavy CPU ops at the shapes of the d12 model (C=768,
// 12 heads of 64, V=50304, 1024 tokens per step).
//   build-*/ops_bench --benchmark_filter='Gemm|DecodeProjection|Attention|OutputHead'
// GEMM counters report FLOP/s (2*M*N*K per call); attention counts the causal
// half of the score matrix (forward 4*B*H*hd*T(T+1)/2, backward 2.5x that).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "ops/attention.h"
#include "ops/gemm.h"
#include "ops/gemv.h"
#include "ops/output_head.h"
#include "ops/panel_gemm.h"

namespace {

using namespace shog;

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> x(n);
  for (auto& e : x) e = nd(rng);
  return x;
}

std::vector<bf16> to_bf16(const std::vector<float>& x) {
  std::vector<bf16> y(x.size());
  convert_f32_to_bf16(x.data(), y.data(), x.size());
  return y;
}

// args: M, N, K, trans_a, trans_b, dtype (0 f32, 1 bf16)
void BM_Gemm(benchmark::State& st) {
  const int64_t M = st.range(0), N = st.range(1), K = st.range(2);
  const bool ta = st.range(3), tb = st.range(4);
  const DType dt = st.range(5) ? DType::bf16 : DType::f32;
  auto A = randn(size_t(M * K), 1), B = randn(size_t(K * N), 2);
  auto Ah = to_bf16(A), Bh = to_bf16(B);
  std::vector<float> C(size_t(M * N));
  const void* pa = dt == DType::bf16 ? static_cast<const void*>(Ah.data()) : A.data();
  const void* pb = dt == DType::bf16 ? static_cast<const void*>(Bh.data()) : B.data();
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  for (auto _ : st) ops::gemm(dt, ta, tb, M, N, K, pa, lda, pb, ldb, C.data(), N, ta);
  st.counters["FLOP/s"] = benchmark::Counter(2.0 * M * N * K, benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(dt == DType::bf16 ? "bf16" : "f32");
}

// The three products of a linear layer for x[1024, in] and W[out, in]:
// forward (N,T), input grad (N,N), weight grad (T,N, accumulating).
void gemm_args(benchmark::internal::Benchmark* b) {
  for (int dt : {0, 1})
    for (auto [in, out] : {std::pair<int64_t, int64_t>{768, 2304}, {2048, 768}}) {
      b->Args({1024, out, in, 0, 1, dt});
      b->Args({1024, in, out, 0, 0, dt});
      b->Args({out, in, 1024, 1, 0, dt});
    }
}
BENCHMARK(BM_Gemm)->Apply(gemm_args)->Unit(benchmark::kMillisecond)->UseRealTime();

// The projections of one d12 layer (qkv, o, gate+up, down) and the
// 50304-row head at M rows, through oneDNN on the row-major weights (arg 2 =
// 0), ops::gemv on them (1), or, in bf16, ops::panel_gemm_bf16 on weights
// packed beforehand as a model does once, with its AVX-512 kernel (2) or its
// AMX one (3, where the CPU has AMX-BF16), or in f32 ops::panel_gemm_f32 on
// f32 panels (2): the crossovers that set
// ops::gemv_max_rows. Weights total 45.7 M (91 MB in bf16, 183 MB in f32),
// more than the last-level cache holds, so every call streams them from
// memory as a decode step does (a whole d12 step reads 12 layers and the
// head: 2.7x as much).
bool half_of(DType dt) { return dt == DType::bf16; }

void BM_DecodeProjection(benchmark::State& st) {
  const DType dt = st.range(0) ? DType::bf16 : DType::f32;
  const int64_t M = st.range(1), kernel = st.range(2);
  if (kernel == 3 && dt != DType::bf16) {
    st.SkipWithError("AMX is bf16 only");
    return;
  }
  if (kernel == 3 && !ops::panel_amx_available(768)) {
    st.SkipWithError("this CPU has no AMX-BF16 (or SHOG_AMX=0)");
    return;
  }
  const int64_t shapes[][2] = {{2304, 768}, {768, 768}, {4096, 768}, {768, 2048}, {50304, 768}};
  std::vector<std::vector<float>> w32;
  std::vector<std::vector<bf16>> w16, panels;
  std::vector<std::vector<float>> panels32;
  double flops = 0;
  for (auto& sh : shapes) {
    w32.push_back(randn(size_t(sh[0] * sh[1]), 7, 0.02f));
    w16.push_back(to_bf16(w32.back()));
    panels.emplace_back(size_t(ops::panel_packed_size(sh[0], sh[1])));
    ops::pack_panels_bf16(w32.back().data(), sh[0], sh[1], panels.back().data());
    if (!half_of(dt)) {
      panels32.emplace_back(size_t(ops::panel_packed_size_f32(sh[0], sh[1])));
      ops::pack_panels_f32(w32.back().data(), sh[0], sh[1], panels32.back().data());
    }
    flops += 2.0 * double(M * sh[0] * sh[1]);
  }
  const auto x32 = randn(size_t(M * 2048), 8);
  const auto x16 = to_bf16(x32);
  std::vector<float> y(size_t(M * 50304));
  const bool half = dt == DType::bf16;
  for (auto _ : st)
    for (size_t i = 0; i < std::size(shapes); ++i) {
      const int64_t N = shapes[i][0], K = shapes[i][1];
      const void* x = half ? static_cast<const void*>(x16.data()) : x32.data();
      const void* W = half ? static_cast<const void*>(w16[i].data()) : w32[i].data();
      if (kernel == 2 && !half)
        ops::panel_gemm_f32(M, N, K, x32.data(), panels32[i].data(), y.data(), false);
      else if (kernel >= 2)
        ops::panel_gemm_bf16(M, N, K, x16.data(), panels[i].data(), y.data(), false,
                             kernel == 3 ? ops::PanelKernel::amx : ops::PanelKernel::avx512);
      else if (kernel == 1)
        ops::gemv(dt, M, N, K, x, W, y.data(), false);
      else
        ops::gemm(dt, false, true, M, N, K, x, K, W, K, y.data(), N, false);
    }
  st.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_DecodeProjection)
    ->ArgsProduct({{0, 1}, {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 512}, {0, 1, 2, 3}})
    ->ArgNames({"bf16", "M", "kernel"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// args: B, T, H, KVH (hd = 64)
void BM_AttentionFwdBwd(benchmark::State& st) {
  const int64_t B = st.range(0), T = st.range(1), H = st.range(2), KVH = st.range(3), hd = 64;
  const ops::AttentionShape s{B, T, H, KVH, hd, H * hd, KVH * hd};
  auto q = randn(size_t(B * T * H * hd), 1), k = randn(size_t(B * T * KVH * hd), 2), v = randn(k.size(), 3);
  auto dout = randn(q.size(), 4);
  std::vector<float> out(q.size()), lse(size_t(B * H * T)), dq(q.size()), dk(k.size()), dv(k.size());
  for (auto _ : st) {
    ops::attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), s);
    ops::attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), out.data(), lse.data(), q.data(), k.data(),
                            v.data(), s);
  }
  const double fwd = 4.0 * B * H * hd * (T * (T + 1) / 2.0);
  st.counters["FLOP/s"] = benchmark::Counter(3.5 * fwd, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_AttentionFwdBwd)->Args({4, 256, 12, 12})->Args({4, 256, 12, 4})->Args({1, 1024, 12, 12})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

// args: dtype, chunk rows. N=1024, C=768, V=50304.
void BM_OutputHeadCrossEntropy(benchmark::State& st) {
  const DType dt = st.range(0) ? DType::bf16 : DType::f32;
  const int64_t N = 1024, C = 768, V = 50304;
  auto h = randn(size_t(N * C), 1), W = randn(size_t(V * C), 2, 0.02f);
  auto Wh = to_bf16(W);
  std::vector<float> dh(h.size()), dW(W.size()), logp(static_cast<size_t>(N)), w(static_cast<size_t>(N), 1.0f / float(N));
  std::vector<int32_t> tg(static_cast<size_t>(N));
  std::mt19937 rng(3);
  for (auto& t : tg) t = int32_t(rng() % uint32_t(V));
  ops::OutputHeadWorkspace ws(C, V, st.range(1));
  const void* Wg = dt == DType::bf16 ? static_cast<const void*>(Wh.data()) : W.data();
  for (auto _ : st)
    benchmark::DoNotOptimize(ops::output_head_cross_entropy(logp.data(), dh.data(), dW.data(), h.data(), Wg, dt,
                                                            tg.data(), w.data(), N, C, V, ws));
  st.counters["FLOP/s"] = benchmark::Counter(6.0 * N * C * V, benchmark::Counter::kIsIterationInvariantRate);
  st.SetLabel(dt == DType::bf16 ? "bf16" : "f32");
}
BENCHMARK(BM_OutputHeadCrossEntropy)->ArgsProduct({{0, 1}, {128, 256, 512}})->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
