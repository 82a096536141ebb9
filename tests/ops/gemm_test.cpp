// ops::gemm against a naive triple loop in double, over every transpose
// combination, with and without accumulation, odd shapes and padded leading
// dimensions (the padding must stay untouched).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "core/error.h"
#include "ops/gemm.h"

namespace shog::ops {
namespace {

struct Case {
  bool ta, tb, acc;
  int64_t M, N, K;
  int64_t pad_a = 0, pad_b = 0, pad_c = 0;  // extra leading-dimension elements
};

std::vector<float> randn(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(n);
  for (auto& e : x) e = nd(rng);
  return x;
}

// Runs one case in dtype dt and returns the max |error| against the naive
// product of the (bf16-rounded, for bf16) inputs, scaled by sqrt(K) so one
// tolerance fits every K: float rounding of a K-term sum of unit products
// grows like sqrt(K).
double max_scaled_error(DType dt, const Case& c, uint32_t seed) {
  const int64_t a_rows = c.ta ? c.K : c.M, a_cols = c.ta ? c.M : c.K;
  const int64_t b_rows = c.tb ? c.N : c.K, b_cols = c.tb ? c.K : c.N;
  const int64_t lda = a_cols + c.pad_a, ldb = b_cols + c.pad_b, ldc = c.N + c.pad_c;
  auto A = randn(size_t(a_rows * lda), seed);
  auto B = randn(size_t(b_rows * ldb), seed + 1);
  auto C0 = randn(size_t(c.M * ldc), seed + 2);
  std::vector<bf16> Ah(A.size()), Bh(B.size());
  if (dt == DType::bf16) {
    // The reference multiplies exactly what the kernel sees.
    for (size_t i = 0; i < A.size(); ++i) A[i] = bf16_to_f32(Ah[i] = f32_to_bf16(A[i]));
    for (size_t i = 0; i < B.size(); ++i) B[i] = bf16_to_f32(Bh[i] = f32_to_bf16(B[i]));
  }
  auto C = C0;
  const void* pa = dt == DType::bf16 ? static_cast<const void*>(Ah.data()) : A.data();
  const void* pb = dt == DType::bf16 ? static_cast<const void*>(Bh.data()) : B.data();
  gemm(dt, c.ta, c.tb, c.M, c.N, c.K, pa, lda, pb, ldb, C.data(), ldc, c.acc);

  double err = 0;
  for (int64_t i = 0; i < c.M; ++i) {
    for (int64_t j = 0; j < c.N; ++j) {
      double ref = c.acc ? double(C0[size_t(i * ldc + j)]) : 0.0;
      for (int64_t k = 0; k < c.K; ++k) {
        const double a = c.ta ? A[size_t(k * lda + i)] : A[size_t(i * lda + k)];
        const double b = c.tb ? B[size_t(j * ldb + k)] : B[size_t(k * ldb + j)];
        ref += a * b;
      }
      err = std::max(err, std::abs(ref - C[size_t(i * ldc + j)]) / std::sqrt(double(c.K)));
    }
    for (int64_t j = c.N; j < ldc; ++j)  // padding columns of C are not ours
      EXPECT_EQ(C[size_t(i * ldc + j)], C0[size_t(i * ldc + j)]) << "padding written at row " << i;
  }
  return err;
}

const Case kCases[] = {
    {false, false, false, 37, 29, 41},
    {false, true, false, 37, 29, 41},
    {true, false, false, 37, 29, 41},
    {true, true, false, 37, 29, 41},
    {false, false, true, 37, 29, 41},
    {false, true, true, 37, 29, 41},
    {true, false, true, 37, 29, 41},
    {true, true, true, 37, 29, 41},
    {false, false, true, 1, 1, 1},
    {false, true, false, 1, 130, 77},
    {true, false, true, 130, 1, 3},
    {false, false, false, 65, 257, 300, 3, 5, 7},
    {false, true, true, 65, 257, 300, 1, 2, 3},
    {true, false, true, 65, 257, 300, 11, 13, 17},
    {true, true, false, 65, 257, 300, 4, 4, 4},
};

// f32: oneDNN accumulates in float, ~1e-7 * sqrt(K) per unit-scale entry;
// 1e-5 after the sqrt(K) scaling is far above that and far below any
// indexing mistake (which is O(1)).
TEST(Gemm, F32MatchesNaiveDoubleAllTransposes) {
  uint32_t seed = 1;
  for (const Case& c : kCases) {
    const double err = max_scaled_error(DType::f32, c, seed += 3);
    EXPECT_LT(err, 1e-5) << "ta=" << c.ta << " tb=" << c.tb << " acc=" << c.acc << " M=" << c.M << " N=" << c.N
                         << " K=" << c.K;
  }
}

// bf16: the products of bf16 values are exact in f32 and accumulation is f32,
// so against the double product of the same rounded inputs the error is the
// same order as f32; 1e-5 again. (Against unrounded inputs it would be ~1e-2.)
TEST(Gemm, Bf16MatchesNaiveOverRoundedInputsAllTransposes) {
  uint32_t seed = 100;
  for (const Case& c : kCases) {
    const double err = max_scaled_error(DType::bf16, c, seed += 3);
    EXPECT_LT(err, 1e-5) << "ta=" << c.ta << " tb=" << c.tb << " acc=" << c.acc << " M=" << c.M << " N=" << c.N
                         << " K=" << c.K;
  }
}

TEST(Gemm, AccumulateAddsToExistingOutput) {
  // C = 1 everywhere, A = B = 1 (2x2x3): C + A B = 1 + 3.
  std::vector<float> A(6, 1.0f), B(6, 1.0f), C(4, 1.0f);
  gemm(DType::f32, false, false, 2, 2, 3, A.data(), 3, B.data(), 2, C.data(), 2, true);
  for (float x : C) EXPECT_EQ(x, 4.0f);
  gemm(DType::f32, false, false, 2, 2, 3, A.data(), 3, B.data(), 2, C.data(), 2, false);
  for (float x : C) EXPECT_EQ(x, 3.0f);
}

TEST(Gemm, EmptyInnerDimensionZeroesOrKeeps) {
  std::vector<float> C(6, 7.0f);
  gemm(DType::f32, false, false, 2, 3, 0, nullptr, 1, nullptr, 3, C.data(), 3, true);
  for (float x : C) EXPECT_EQ(x, 7.0f);
  gemm(DType::f32, false, false, 2, 3, 0, nullptr, 1, nullptr, 3, C.data(), 3, false);
  for (float x : C) EXPECT_EQ(x, 0.0f);
}

TEST(Gemm, RepeatedShapeReusesCachedPrimitive) {
  std::vector<float> A(24 * 31, 1.0f), B(31 * 19, 1.0f), C(24 * 19);
  gemm(DType::f32, false, true, 24, 19, 31, A.data(), 31, B.data(), 31, C.data(), 19, false);
  const int64_t after_first = gemm_cache_size();
  for (int i = 0; i < 5; ++i) gemm(DType::f32, false, true, 24, 19, 31, A.data(), 31, B.data(), 31, C.data(), 19, false);
  EXPECT_EQ(gemm_cache_size(), after_first);
  // A different key (accumulate) is a different primitive.
  gemm(DType::f32, false, true, 24, 19, 31, A.data(), 31, B.data(), 31, C.data(), 19, true);
  EXPECT_EQ(gemm_cache_size(), after_first + 1);
}

TEST(Gemm, ConcurrentCallersGetTheSameAnswer) {
  // Two threads run the same cached primitive at once (a data-parallel
  // worker would); each has its own stream and scratchpad. A shared scratchpad
  // would corrupt whole blocks (errors O(1)); 1e-4 only allows for a different
  // thread split changing the summation order.
  const int64_t M = 96, N = 80, K = 200;
  const auto A = randn(size_t(M * K), 40), B = randn(size_t(K * N), 41);
  std::vector<float> ref(size_t(M * N));
  gemm(DType::f32, false, false, M, N, K, A.data(), K, B.data(), N, ref.data(), N, false);
  std::vector<std::vector<float>> out(2, std::vector<float>(size_t(M * N)));
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 20; ++rep)
        gemm(DType::f32, false, false, M, N, K, A.data(), K, B.data(), N, out[size_t(t)].data(), N, false);
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 2; ++t)
    for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(out[size_t(t)][i], ref[i], 1e-4) << "thread " << t;
}

TEST(Gemm, RejectsUnsupportedDtypeAndBadLeadingDims) {
  std::vector<float> buf(64);
  EXPECT_THROW(gemm(DType::i32, false, false, 2, 2, 2, buf.data(), 2, buf.data(), 2, buf.data(), 2, false), Error);
  EXPECT_THROW(gemm(DType::f32, false, false, 2, 2, 3, buf.data(), 2, buf.data(), 2, buf.data(), 2, false), Error);
  EXPECT_THROW(gemm(DType::f32, false, false, 2, 3, 2, buf.data(), 2, buf.data(), 3, buf.data(), 2, false), Error);
}

}  // namespace
}  // namespace shog::ops
