// gemv against a double-precision reference: every partial tile (rows of W
// 1..4 past a multiple of 4, rows of x 1..6 past a multiple of 6), K with and
// without a tail past the vector width, f32 and bf16, overwrite and accumulate.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/random.h"
#include "ops/gemv.h"

using namespace shog;

TEST(Gemv, MatchesReferenceForEveryTileShapeAndDtype) {
  Rng rng(1);
  for (DType dt : {DType::f32, DType::bf16})
    for (int64_t M : {1, 2, 3, 5, 6, 7, 12, 16, 17, 32, 47, 64})
      for (int64_t N : {1, 3, 8, 37})
        for (int64_t K : {1, 16, 40, 100, 768})
          for (bool acc : {false, true}) {
            std::vector<float> x(size_t(M * K)), W(size_t(N * K)), y(size_t(M * N)), y0;
            for (auto& v : x) v = float(rng.normal());
            for (auto& v : W) v = float(rng.normal());
            for (auto& v : y) v = float(rng.normal());
            y0 = y;
            // In bf16 both operands are bf16: the reference uses the same rounded values.
            std::vector<bf16> x16(x.size()), W16(W.size());
            for (size_t i = 0; i < x.size(); ++i) x16[i] = f32_to_bf16(x[i]), x[i] = dt == DType::bf16 ? bf16_to_f32(x16[i]) : x[i];
            for (size_t i = 0; i < W.size(); ++i) W16[i] = f32_to_bf16(W[i]), W[i] = dt == DType::bf16 ? bf16_to_f32(W16[i]) : W[i];
            const bool half = dt == DType::bf16;
            ops::gemv(dt, M, N, K, half ? static_cast<const void*>(x16.data()) : x.data(),
                      half ? static_cast<const void*>(W16.data()) : W.data(), y.data(), acc);
            for (int64_t m = 0; m < M; ++m)
              for (int64_t n = 0; n < N; ++n) {
                double ref = acc ? y0[size_t(m * N + n)] : 0.0;
                for (int64_t k = 0; k < K; ++k) ref += double(x[size_t(m * K + k)]) * W[size_t(n * K + k)];
                ASSERT_NEAR(y[size_t(m * N + n)], ref, 1e-4 * std::sqrt(double(K)) + 1e-5)
                    << dtype_name(dt) << " M=" << M << " N=" << N << " K=" << K << " acc=" << acc << " at m=" << m
                    << " n=" << n;
              }
          }
}

TEST(Gemv, RejectsAnUnsupportedDtype) {
  float x = 1, w = 1, y = 0;
  EXPECT_THROW(ops::gemv(DType::i32, 1, 1, 1, &x, &w, &y, false), Error);
}
