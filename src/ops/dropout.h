// Inverted dropout: out (+)= mask * in / (1 - p), with mask_i = 0 for a share
// p of the elements, chosen by a hash of (seed, i). The mask is never stored:
// a backward calls the same function with the same seed on the output
// gradient, which is the exact derivative (the map is linear in `in`). The
// same seed gives the same mask on any thread count.
#pragma once
#include <cstdint>

namespace shog::ops {

// p in [0, 1). accumulate: add into out instead of overwriting it. in == out
// is allowed when !accumulate.
void dropout(const float* in, float* out, int64_t n, float p, uint64_t seed, bool accumulate);

}  // namespace shog::ops
