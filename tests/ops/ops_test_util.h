// Helpers the kernel tests share: random inputs from the project's Rng, and
// the central difference every backward test checks its gradient against.
#pragma once

#include <vector>

#include "core/random.h"

namespace shog::ops::test {

// n draws of mean + scale * N(0, 1), rounded to float once.
inline std::vector<float> randn(size_t n, Rng& rng, double scale = 1.0, double mean = 0.0) {
  std::vector<float> v(n);
  for (auto& x : v) x = float(mean + scale * rng.normal());
  return v;
}

// (loss(p + h) - loss(p - h)) / 2h, with p restored afterwards. `loss` reads
// p through whatever captured it, so p must be one of its inputs.
template <class Loss>
double central_difference(Loss&& loss, double& p, double h) {
  const double keep = p;
  p = keep + h;
  const double lp = loss();
  p = keep - h;
  const double lm = loss();
  p = keep;
  return (lp - lm) / (2 * h);
}

}  // namespace shog::ops::test
