#include "train/adamw_optimizer.h"

#include <cmath>

#include "core/error.h"

namespace shog {

AdamWOptimizer::AdamWOptimizer(const ParamTable& table, ops::AdamWHyper hyper)
    : table_(table), hyper_(hyper), m_(size_t(table.total()), 0.0f), v_(size_t(table.total()), 0.0f) {}

double checked_gradient_norm(const ParamTable& table, const float* grads, int64_t step) {
  double ss = 0;
  for (auto& e : table.entries())
    if (!e.frozen) ss += ops::sum_squares(grads + e.offset, e.numel);
  const double norm = std::sqrt(ss);
  SHOG_CHECK(std::isfinite(norm), ErrorKind::numeric, fmt::format("optimizer step {}", step),
             "gradient norm is {}; parameters left unchanged", norm);
  return norm;
}

double AdamWOptimizer::step(float* params, const float* grads, double lr, float clip_norm, bf16* params16) {
  const double norm = checked_gradient_norm(table_, grads, t_ + 1);
  const float scale = ops::clip_scale(norm, clip_norm);
  ++t_;
  ops::AdamWHyper h = hyper_;
  h.lr = float(lr);
  for (auto& e : table_.entries()) {
    if (e.frozen) continue;
    ops::adamw_update(params + e.offset, grads + e.offset, m_.data() + e.offset, v_.data() + e.offset, e.numel, h, t_,
                      e.decay, scale, params16 && e.is_matrix ? params16 + e.offset : nullptr);
  }
  return norm;
}

}  // namespace shog
