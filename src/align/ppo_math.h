// The scalar pieces of PPO for language models (Ziegler et al. 2019,
// "Fine-Tuning Language Models from Human Preferences"; Ouyang et al. 2022,
// InstructGPT), as plain functions so that tests can hold them against
// PyTorch and finite differences (tests/align/ppo_math_test.cpp).
//
// Per reply of n tokens, with the policy's log-probs logp_t at rollout time
// and the reference's ref_t:
//   r_t = -beta (logp_t - ref_t)  (+ score at t = n - 1)
//   delta_t = r_t + gamma V_{t+1} - V_t,   V_n = 0
//   A_t = sum_l (gamma lam)^l delta_{t+l},   R_t = A_t + V_t          (GAE)
// Value loss (clipped around the rollout-time values V_old, as PPO2):
//   L_V = 0.5 max((V - R)^2, (clip(V, V_old - eps, V_old + eps) - R)^2)
// Adaptive KL coefficient (Ziegler et al. 2019, section 2.2):
//   e = clip(KL / KL_target - 1, -0.2, 0.2),  beta <- beta (1 + e n / horizon)
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace shog {

// r_t = -kl_coef (logp_t - ref_logp_t), plus `score` on the last token.
std::vector<double> kl_shaped_rewards(std::span<const float> logp, std::span<const float> ref_logp, double score,
                                      double kl_coef);

struct GaeResult {
  std::vector<double> advantages, returns;
};
// Generalised advantage estimation (Schulman et al. 2016) over one reply;
// the episode ends after its last token (no bootstrap value).
GaeResult gae(std::span<const double> rewards, std::span<const double> values, double gamma, double lam);

// (x - mean) / sqrt(var + 1e-8), var with Bessel's correction (as TRL's
// `whiten`); with fewer than two values, x - mean.
std::vector<double> whiten(std::span<const double> x);

struct ValueLoss {
  double loss;
  double d_value;  // dL/dV
  bool clipped;    // the clipped branch is the larger one: no gradient
};
ValueLoss clipped_value_loss(double value, double old_value, double ret, double eps);

// 1 - Var(target - pred) / Var(target) (population variances): 1 for a
// perfect prediction, 0 for predicting the mean, NaN when Var(target) = 0.
double explained_variance(std::span<const double> pred, std::span<const double> target);

// The KL coefficient: fixed (target 0) or adaptive as above. `kl` is the
// measured KL per reply (summed over its tokens, averaged over replies) and
// n the number of replies it was measured on; horizon is in replies.
class KlController {
 public:
  KlController(double init_coef, double target, double horizon);
  double coef() const { return coef_; }
  bool adaptive() const { return target_ > 0; }
  void update(double kl, int64_t n);

 private:
  double coef_, target_, horizon_;
};

}  // namespace shog
