// panel_gemm against a double-precision reference on the same bf16-rounded
// values: every pass height (1..8 rows past a multiple of 8, and 1..16 past a
// multiple of 16 for the AMX tiles), partial and whole panels, K even and
// odd, overwrite and accumulate, with each kernel this CPU can run (the
// AVX-512 one always; the AMX one where the CPU has AMX-BF16 and K % 32 == 0);
// the packed layout element by element; and independence from the thread
// count.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/random.h"
#include "ops/panel_gemm.h"

using namespace shog;

namespace {

std::vector<float> normal(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (auto& e : v) e = float(rng.normal());
  return v;
}

std::vector<bf16> round16(const std::vector<float>& v) {
  std::vector<bf16> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) h[i] = f32_to_bf16(v[i]);
  return h;
}

// The kernels that can run here for this K.
std::vector<ops::PanelKernel> kernels(int64_t K) {
  std::vector<ops::PanelKernel> k{ops::PanelKernel::avx512};
  if (ops::panel_amx_available(K)) k.push_back(ops::PanelKernel::amx);
  return k;
}

std::vector<bf16> pack(const std::vector<float>& W, int64_t N, int64_t K) {
  std::vector<bf16> p(size_t(ops::panel_packed_size(N, K)));
  ops::pack_panels_bf16(W.data(), N, K, p.data());
  return p;
}

}  // namespace

TEST(PanelGemm, MatchesReferenceForEveryPassHeightPanelAndK) {
  Rng rng(3);
  for (int64_t M : {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 24, 31, 33, 70})
    for (int64_t N : {1, 16, 47, 48, 49, 100})
      for (int64_t K : {1, 2, 3, 31, 64, 101, 768})
        for (bool acc : {false, true})
          for (ops::PanelKernel kernel : kernels(K)) {
          const auto x = normal(size_t(M * K), rng), W = normal(size_t(N * K), rng);
          std::vector<float> y = normal(size_t(M * N), rng);
          const auto y0 = y;
          const auto x16 = round16(x), Wp = pack(W, N, K);
          ops::panel_gemm_bf16(M, N, K, x16.data(), Wp.data(), y.data(), acc, kernel);
          for (int64_t m = 0; m < M; ++m)
            for (int64_t n = 0; n < N; ++n) {
              double ref = acc ? y0[size_t(m * N + n)] : 0.0;
              for (int64_t k = 0; k < K; ++k)
                ref += double(bf16_to_f32(x16[size_t(m * K + k)])) * bf16_to_f32(f32_to_bf16(W[size_t(n * K + k)]));
              ASSERT_NEAR(y[size_t(m * N + n)], ref, 1e-4 * std::sqrt(double(K)) + 1e-5)
                  << "M=" << M << " N=" << N << " K=" << K << " acc=" << acc << " kernel=" << int(kernel)
                  << " at m=" << m << " n=" << n;
            }
        }
}

TEST(PanelGemm, PacksPairsOfColumnsOfFortyEightRowsWithZeroPadding) {
  Rng rng(4);
  const int64_t N = 50, K = 5, K2 = 3;
  const auto W = normal(size_t(N * K), rng);
  const auto p = pack(W, N, K);
  ASSERT_EQ(int64_t(p.size()), 2 * 48 * K2 * 2);
  for (int64_t panel = 0; panel < 2; ++panel)
    for (int64_t j = 0; j < K2; ++j)
      for (int64_t r = 0; r < 48; ++r)
        for (int64_t e = 0; e < 2; ++e) {
          const int64_t n = panel * 48 + r, k = 2 * j + e;
          const uint16_t want = n < N && k < K ? f32_to_bf16(W[size_t(n * K + k)]).bits : 0;
          ASSERT_EQ(p[size_t(((panel * K2 + j) * 48 + r) * 2 + e)].bits, want) << "n=" << n << " k=" << k;
        }
}

TEST(PanelGemm, OddKNeverReadsTheNextRowOfX) {
  // With K odd the last pair of a row is (x[K-1], next row's x[0]); the
  // padding of W is 0, but 0 * inf would still be NaN if it were read.
  const int64_t M = 3, N = 5, K = 7;
  std::vector<float> x(size_t(M * K), 1.0f), W(size_t(N * K), 0.5f);
  x[size_t(K)] = std::numeric_limits<float>::infinity();  // row 1, column 0
  std::vector<float> y(size_t(M * N));
  const auto x16 = round16(x), Wp = pack(W, N, K);
  ops::panel_gemm_bf16(M, N, K, x16.data(), Wp.data(), y.data(), false);
  for (int64_t n = 0; n < N; ++n) {
    EXPECT_EQ(y[size_t(n)], 3.5f);  // row 0: 7 x 0.5
    EXPECT_TRUE(std::isinf(y[size_t(N + n)]));
    EXPECT_EQ(y[size_t(2 * N + n)], 3.5f);
  }
}

TEST(PanelGemm, ResultsDoNotDependOnTheThreadCount) {
  Rng rng(5);
  for (int64_t K : {300, 320}) {
    const int64_t M = 19, N = 700;
    const auto x16 = round16(normal(size_t(M * K), rng));
    const auto Wp = pack(normal(size_t(N * K), rng), N, K);
    for (ops::PanelKernel kernel : kernels(K)) {
      std::vector<float> y1(size_t(M * N)), y2(size_t(M * N));
      const int before = omp_get_max_threads();
      omp_set_num_threads(1);
      ops::panel_gemm_bf16(M, N, K, x16.data(), Wp.data(), y1.data(), false, kernel);
      omp_set_num_threads(std::max(2, before));
      ops::panel_gemm_bf16(M, N, K, x16.data(), Wp.data(), y2.data(), false, kernel);
      omp_set_num_threads(before);
      EXPECT_EQ(y1, y2) << "K=" << K << " kernel=" << int(kernel);
    }
  }
}

TEST(PanelGemmF32, MatchesReferenceForEveryPassHeightPanelAndK) {
  Rng rng(6);
  for (int64_t M : {1, 2, 3, 5, 7, 8, 9, 16, 17, 30})
    for (int64_t N : {1, 16, 47, 48, 49, 100})
      for (int64_t K : {1, 2, 3, 31, 64, 101, 768})
        for (bool acc : {false, true}) {
          const auto x = normal(size_t(M * K), rng), W = normal(size_t(N * K), rng);
          std::vector<float> y = normal(size_t(M * N), rng);
          const auto y0 = y;
          std::vector<float> Wp(size_t(ops::panel_packed_size_f32(N, K)));
          ops::pack_panels_f32(W.data(), N, K, Wp.data());
          ops::panel_gemm_f32(M, N, K, x.data(), Wp.data(), y.data(), acc);
          for (int64_t m = 0; m < M; ++m)
            for (int64_t n = 0; n < N; ++n) {
              double ref = acc ? y0[size_t(m * N + n)] : 0.0, mag = std::abs(ref);
              for (int64_t k = 0; k < K; ++k) {
                ref += double(x[size_t(m * K + k)]) * W[size_t(n * K + k)];
                mag += std::abs(double(x[size_t(m * K + k)]) * W[size_t(n * K + k)]);
              }
              // f32 sums: rounding error grows with the sum of |terms| (a wrong
              // term would be off by ~1).
              ASSERT_NEAR(y[size_t(m * N + n)], ref, 1e-6 * mag + 1e-6)
                  << "M=" << M << " N=" << N << " K=" << K << " acc=" << acc << " at m=" << m << " n=" << n;
            }
        }
}

TEST(PanelGemmF32, PacksColumnsOfFortyEightRowsWithZeroPadding) {
  Rng rng(7);
  const int64_t N = 50, K = 5;
  const auto W = normal(size_t(N * K), rng);
  std::vector<float> p(size_t(ops::panel_packed_size_f32(N, K)), -1.0f);
  ASSERT_EQ(int64_t(p.size()), 2 * 48 * K);
  ops::pack_panels_f32(W.data(), N, K, p.data());
  for (int64_t panel = 0; panel < 2; ++panel)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t r = 0; r < 48; ++r) {
        const int64_t n = panel * 48 + r;
        ASSERT_EQ(p[size_t((panel * K + k) * 48 + r)], n < N ? W[size_t(n * K + k)] : 0.0f) << "n=" << n << " k=" << k;
      }
}

TEST(PanelGemmF32, ResultsDoNotDependOnTheThreadCount) {
  Rng rng(8);
  const int64_t M = 13, N = 700, K = 300;
  const auto x = normal(size_t(M * K), rng), W = normal(size_t(N * K), rng);
  std::vector<float> Wp(size_t(ops::panel_packed_size_f32(N, K)));
  ops::pack_panels_f32(W.data(), N, K, Wp.data());
  std::vector<float> y1(size_t(M * N)), y2(size_t(M * N));
  const int before = omp_get_max_threads();
  omp_set_num_threads(1);
  ops::panel_gemm_f32(M, N, K, x.data(), Wp.data(), y1.data(), false);
  omp_set_num_threads(std::max(2, before));
  ops::panel_gemm_f32(M, N, K, x.data(), Wp.data(), y2.data(), false);
  omp_set_num_threads(before);
  EXPECT_EQ(y1, y2);
}

// Each thread takes its own block of panels and, on its last one, fetches
// its first panel of the product named as `then`. Any team size (panels not
// dividing evenly, threads with no panel) and any next product (longer or
// shorter panels, fewer panels than threads) must give every output once,
// the same as one thread without a hint.
TEST(PanelGemmF32, EveryPanelOnceForAnyTeamSizeAndNextProduct) {
  Rng rng(9);
  const int64_t M = 16, K = 96;
  const int before = omp_get_max_threads();
  for (int64_t N : {1, 48, 100, 480, 1000}) {
    const auto x = normal(size_t(M * K), rng), W = normal(size_t(N * K), rng);
    std::vector<float> Wp(size_t(ops::panel_packed_size_f32(N, K)));
    ops::pack_panels_f32(W.data(), N, K, Wp.data());
    std::vector<float> want(size_t(M * N));
    omp_set_num_threads(1);
    ops::panel_gemm_f32(M, N, K, x.data(), Wp.data(), want.data(), false);
    for (auto [next_N, next_K] : {std::pair<int64_t, int64_t>{0, 0}, {50, 96}, {500, 32}, {96, 400}}) {
      std::vector<float> next(size_t(std::max<int64_t>(1, ops::panel_packed_size_f32(next_N, next_K))), 1.0f);
      const ops::PanelsNext then{next_N ? next.data() : nullptr, next_N, next_K};
      for (int threads : {1, 2, 3, 5}) {
        omp_set_num_threads(threads);
        std::vector<float> y(size_t(M * N), -7.0f);
        ops::panel_gemm_f32(M, N, K, x.data(), Wp.data(), y.data(), false, then);
        EXPECT_EQ(y, want) << "N=" << N << " threads=" << threads << " next " << next_N << "x" << next_K;
      }
    }
  }
  omp_set_num_threads(before);
}

TEST(PanelGemm, AskingForAmxWhereItCannotRunIsAnError) {
  // K = 31 is never a whole number of 32-value tiles, on any CPU.
  const int64_t M = 2, N = 3, K = 31;
  std::vector<bf16> x(size_t(M * K)), Wp(size_t(ops::panel_packed_size(N, K)));
  std::vector<float> y(size_t(M * N));
  EXPECT_FALSE(ops::panel_amx_available(K));
  EXPECT_THROW(ops::panel_gemm_bf16(M, N, K, x.data(), Wp.data(), y.data(), false, ops::PanelKernel::amx), Error);
}
