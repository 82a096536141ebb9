// AdamW over a model's whole parameter block: moments in blocks of the same
// layout, the per-parameter no-decay mask from the ParamTable (norm weights
// are not decayed), frozen parameters skipped, and global gradient-norm
// clipping folded into the update as a gradient scale.
#pragma once
#include <cstdint>
#include <vector>

#include "model/parameters.h"
#include "ops/adamw.h"

namespace shog {

// The global L2 norm of the trainable entries' gradients (the one gradient
// clipping uses). Throws ErrorKind::numeric, naming optimizer step `step`, if
// it is not finite: callers check before touching any parameter.
double checked_gradient_norm(const ParamTable& table, const float* grads, int64_t step);

class AdamWOptimizer {
 public:
  AdamWOptimizer(const ParamTable& table, ops::AdamWHyper hyper);

  // One update with learning rate lr. Returns the global gradient L2 norm
  // (before clipping). Throws ErrorKind::numeric if it is not finite, before
  // touching any parameter, so a bad step never reaches the weights.
  // params16 (optional, same layout): the bf16 compute copy, refreshed for
  // matrix entries in the same pass (Transformer::params16()), which makes a
  // separate Transformer::sync_compute_weights() unnecessary.
  double step(float* params, const float* grads, double lr, float clip_norm, bf16* params16 = nullptr);

  int64_t steps_taken() const { return t_; }
  void set_steps_taken(int64_t t) { t_ = t; }
  std::vector<float>& m() { return m_; }
  std::vector<float>& v() { return v_; }
  const std::vector<float>& m() const { return m_; }
  const std::vector<float>& v() const { return v_; }
  const ops::AdamWHyper& hyper() const { return hyper_; }
  const ParamTable& table() const { return table_; }

 private:
  const ParamTable& table_;
  ops::AdamWHyper hyper_;
  std::vector<float> m_, v_;
  int64_t t_ = 0;
};

}  // namespace shog
