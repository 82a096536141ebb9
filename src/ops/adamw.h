// AdamW (Loshchilov & Hutter 2019): Adam with weight decay decoupled from
// the gradient, exactly as torch.optim.AdamW computes it:
//   p -= lr * wd * p                       (only where decay is on)
//   m = b1 m + (1-b1) g ;  v = b2 v + (1-b2) g^2
//   p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
// g is grad * grad_scale, which is how global-norm clipping is applied
// without a separate pass over the gradients.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace shog::ops {

struct AdamWHyper {
  float lr = 3e-4f;
  float beta1 = 0.9f;
  float beta2 = 0.95f;
  float eps = 1e-8f;
  float weight_decay = 0.1f;
};

// step is 1-based (bias correction). When p16 is not null the updated
// parameters are also written there rounded to bf16: the copy bf16 GEMMs
// read, refreshed in the same pass instead of a second sweep over memory.
void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamWHyper& h, int64_t step,
                  bool decay, float grad_scale, bf16* p16 = nullptr);

// Sum of squares of g[0..n), accumulated in double, in an order fixed by n
// alone (bitwise reproducible for any thread count).
double sum_squares(const float* g, int64_t n);

// torch.nn.utils.clip_grad_norm_: scale = min(1, max_norm / (norm + 1e-6)).
// max_norm <= 0 disables clipping (scale 1). Computed in float as torch does; a
// NaN norm gives NaN, which the caller must treat as a numeric error.
float clip_scale(double global_norm, float max_norm);

}  // namespace shog::ops
