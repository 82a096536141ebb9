#include "align/policy_loss.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace shog {

TokenLoss clipped_surrogate(double logp, double old_logp, double adv, double eps_low, double eps_high) {
  const double r = std::exp(logp - old_logp);
  const double unclipped = r * adv;
  const double clipped = std::clamp(r, 1 - eps_low, 1 + eps_high) * adv;
  // min picks the clipped branch only where clipping changed the value.
  if (clipped < unclipped) return {-clipped, 0.0, true};
  return {-unclipped, -unclipped, false};  // d(-r A)/dlogp = -r A
}

TokenLoss kl_k3(double logp, double ref_logp) {
  const double d = ref_logp - logp;
  const double e = std::exp(d);
  return {e - d - 1, 1 - e, false};
}

std::vector<double> group_advantages(std::span<const double> rewards, int64_t group, bool scale) {
  SHOG_CHECK(group >= 1 && int64_t(rewards.size()) % group == 0, ErrorKind::invalid_argument, "group_advantages",
             "{} rewards do not form groups of {}", rewards.size(), group);
  std::vector<double> a(rewards.size());
  for (size_t g0 = 0; g0 < rewards.size(); g0 += size_t(group)) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < group; ++i) mean += rewards[g0 + size_t(i)];
    mean /= double(group);
    for (int64_t i = 0; i < group; ++i) var += (rewards[g0 + size_t(i)] - mean) * (rewards[g0 + size_t(i)] - mean);
    const double sd = std::sqrt(var / double(group));
    for (int64_t i = 0; i < group; ++i)
      a[g0 + size_t(i)] = (rewards[g0 + size_t(i)] - mean) / (scale ? sd + 1e-4 : 1.0);
  }
  return a;
}

}  // namespace shog
