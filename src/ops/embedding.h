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

}  // namespace shog::ops
