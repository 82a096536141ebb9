// gemv against a double-precision reference: every row-group size (1..4 and
// a remainder), K with and without a tail past the 16-wide vectors, f32 and
// bf16 weights, overwrite and accumulate.
#include <gtest/gtest.h>

#include <cmath>

#include "core/random.h"
#include "ops/gemv.h"

using namespace shog;

TEST(Gemv, MatchesReferenceForEveryShapeAndDtype) {
  Rng rng(1);
  for (DType dt : {DType::f32, DType::bf16})
    for (int64_t M : {1, 2, 3, 4, 7})
      for (int64_t K : {16, 64, 100, 768})
        for (bool acc : {false, true}) {
          const int64_t N = 37;
          std::vector<float> x(size_t(M * K)), W(size_t(N * K)), y(size_t(M * N)), y0;
          for (auto& v : x) v = float(rng.normal());
          for (auto& v : W) v = float(rng.normal());
          for (auto& v : y) v = float(rng.normal());
          y0 = y;
          std::vector<bf16> W16(W.size());
          for (size_t i = 0; i < W.size(); ++i) W16[i] = f32_to_bf16(W[i]), W[i] = dt == DType::bf16 ? bf16_to_f32(W16[i]) : W[i];
          ops::gemv(dt, M, N, K, x.data(), dt == DType::bf16 ? static_cast<const void*>(W16.data()) : W.data(),
                    y.data(), acc);
          for (int64_t m = 0; m < M; ++m)
            for (int64_t n = 0; n < N; ++n) {
              double ref = acc ? y0[size_t(m * N + n)] : 0.0;
              for (int64_t k = 0; k < K; ++k) ref += double(x[size_t(m * K + k)]) * W[size_t(n * K + k)];
              ASSERT_NEAR(y[size_t(m * N + n)], ref, 1e-4 * std::sqrt(double(K)))
                  << dtype_name(dt) << " M=" << M << " K=" << K << " acc=" << acc;
            }
        }
}
