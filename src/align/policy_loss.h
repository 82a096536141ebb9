// Per-token pieces of the policy-gradient objectives (GRPO here, PPO later),
// as plain functions so tests can check them against autograd and finite
// differences.
//
// Clipped surrogate (PPO, Schulman et al. 2017; per token t of a reply):
//   r = exp(logp - logp_old)
//   L = -min(r A, clip(r, 1 - eps_low, 1 + eps_high) A)
// eps_high > eps_low is DAPO's "clip higher" (Yu et al. 2025).
// KL to the reference, the k3 estimator (Schulman 2020) GRPO uses:
//   KL = exp(ref - logp) - (ref - logp) - 1  >= 0
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace shog {

struct TokenLoss {
  double loss;
  double d_logp;  // dL/dlogp
  bool clipped;   // the clipped branch is active: no gradient from this token
};

TokenLoss clipped_surrogate(double logp, double old_logp, double advantage, double eps_low, double eps_high);
TokenLoss kl_k3(double logp, double ref_logp);

// Group-relative advantages (Shao et al. 2024): rewards in consecutive groups
// of `group`; A = r - mean(group), divided by (std(group) + 1e-4) when
// scale is set (GRPO, DAPO) and left unscaled when not (Dr. GRPO, Liu et al.
// 2025, which removes the std's difficulty bias). std is the population std.
std::vector<double> group_advantages(std::span<const double> rewards, int64_t group, bool scale);

}  // namespace shog
