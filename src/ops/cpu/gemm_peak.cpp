#include "ops/gemm_peak.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/random.h"
#include "ops/gemm.h"

namespace shog::ops {

double measure_gemm_peak_flops(DType dt, double seconds, int size) {
  const int64_t n = size;
  Rng rng(7);
  std::vector<float> a(size_t(n * n)), b(size_t(n * n)), c(size_t(n * n));
  for (auto& x : a) x = float(rng.uniform() - 0.5);
  for (auto& x : b) x = float(rng.uniform() - 0.5);
  std::vector<bf16> a16(a.size()), b16(b.size());
  convert_f32_to_bf16(a.data(), a16.data(), a.size());
  convert_f32_to_bf16(b.data(), b16.data(), b.size());
  const void* A = dt == DType::bf16 ? static_cast<const void*>(a16.data()) : a.data();
  const void* B = dt == DType::bf16 ? static_cast<const void*>(b16.data()) : b.data();
  auto run = [&] { gemm(dt, false, false, n, n, n, A, n, B, n, c.data(), n, false); };
  run();  // primitive creation and first-touch outside the timing
  double best = 0, spent = 0;
  for (int rep = 0; rep < 100 && (spent < seconds || rep < 3); ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    run();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    spent += s;
    best = std::max(best, 2.0 * double(n) * double(n) * double(n) / s);
  }
  return best;
}

}  // namespace shog::ops
