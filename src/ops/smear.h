// Previous-token smear: out[n,:] += g * wte[tokens[n-1],:] for every position
// n that is not the first of its sample (a sample starts where pos[n] == 0
// when pos is given, else at every multiple of T).
//
// Why: copying from the context (induction) needs a query that finds "the
// token after an earlier copy of me". A plain transformer builds it from two
// layers (a previous-token head feeding the next layer's keys), and that
// composition forms late; the demo's models never formed it. With the
// previous token's embedding already in each position, one attention layer
// can match it, and a 2-layer model learns to copy variable-length repeats in
// ~1,000 steps where the plain one has not after 8,000 (docs/demo.md,
// "Session 25"). g is one learnt gain per channel, initialised to zero, so a
// new model starts as the plain one.
//
// Backward follows ops/ convention: gradients are accumulated (+=) into dwte
// and dg, never overwritten; it is deterministic for any thread count.
#pragma once
#include <cstdint>

namespace shog::ops {

void smear_forward(float* out, const int32_t* tokens, const int32_t* pos, const float* wte, const float* g, int64_t N,
                   int64_t T, int64_t C);
// dout is the gradient of `out`; dwte or dg may be null (frozen).
void smear_backward(float* dwte, float* dg, const float* dout, const int32_t* tokens, const int32_t* pos,
                    const float* wte, const float* g, int64_t N, int64_t T, int64_t C);

}  // namespace shog::ops
