// Previous-token smear: out[n,:] += g * wte[prev[n],:] for every row n whose
// prev[n] >= 0. The caller says which token came before each row (-1 at a
// sample's first position): the training forward from the row and its packed
// samples, a decode step from the KV cache's record.
//
// Why: copying from the context (induction) needs a query that finds "the
// token after an earlier copy of me". A plain transformer builds it from two
// layers (a previous-token head feeding the next layer's keys), and that
// composition forms late; the demo's models never formed it. With the
// previous token's embedding already in each position, one attention layer
// can match it (docs/demo.md, "Session 25": with a large embedding init, a
// 2-layer model learns to copy variable-length repeats within 2,000 steps,
// where it had not after 8,000). g is one learnt gain per channel,
// initialised to zero, so a new model starts as the plain one.
//
// Backward follows ops/ convention: gradients are accumulated (+=) into dwte
// and dg, never overwritten; it is deterministic for any thread count.
#pragma once
#include <cstdint>

namespace shog::ops {

void smear_forward(float* out, const int32_t* prev, const float* wte, const float* g, int64_t N, int64_t C);
// dout is the gradient of `out`; dwte or dg may be null (frozen).
void smear_backward(float* dwte, float* dg, const float* dout, const int32_t* prev, const float* wte, const float* g,
                    int64_t N, int64_t C);

}  // namespace shog::ops
