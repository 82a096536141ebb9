// Token embedding lookup. out[n,:] = wte[tokens[n],:].
// Convention for every backward in ops/: gradients are ACCUMULATED (+=) into
// both input and parameter gradient buffers; callers zero them.
// Token ids must lie in [0, V); the kernels are not told V, so the caller
// (the data loader) validates them. The backward is deterministic: the same
// bits for any thread count.
#pragma once
#include <cstdint>

namespace shog::ops {

void embedding_forward(float* out, const int32_t* tokens, const float* wte, int64_t N, int64_t C);
void embedding_backward(float* dwte, const float* dout, const int32_t* tokens, int64_t N, int64_t C);

// NEFTune's noise (Jain et al., 2023): x[i] += magnitude * u_i, u_i uniform
// in [-1, 1) from a hash of (seed, i), so the same seed gives the same draw
// on any thread count. The noise is a constant added to the activations, so
// no backward is needed: dL/dwte is what it would be without it.
void embedding_noise(float* x, int64_t n, float magnitude, uint64_t seed);

}  // namespace shog::ops
