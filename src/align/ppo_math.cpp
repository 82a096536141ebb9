#include "align/ppo_math.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace shog {

std::vector<double> kl_shaped_rewards(std::span<const float> logp, std::span<const float> ref_logp, double score,
                                      double kl_coef) {
  SHOG_CHECK(logp.size() == ref_logp.size() && !logp.empty(), ErrorKind::internal, "kl_shaped_rewards",
             "{} log-probs against {} reference log-probs", logp.size(), ref_logp.size());
  std::vector<double> r(logp.size());
  for (size_t t = 0; t < r.size(); ++t) r[t] = -kl_coef * (double(logp[t]) - double(ref_logp[t]));
  r.back() += score;
  return r;
}

GaeResult gae(std::span<const double> rewards, std::span<const double> values, double gamma, double lam) {
  SHOG_CHECK(rewards.size() == values.size(), ErrorKind::internal, "gae", "{} rewards against {} values",
             rewards.size(), values.size());
  const size_t n = rewards.size();
  GaeResult g{std::vector<double>(n), std::vector<double>(n)};
  double next_adv = 0, next_value = 0;
  for (size_t i = n; i-- > 0;) {
    const double delta = rewards[i] + gamma * next_value - values[i];
    next_adv = delta + gamma * lam * next_adv;
    next_value = values[i];
    g.advantages[i] = next_adv;
    g.returns[i] = next_adv + values[i];
  }
  return g;
}

std::vector<double> whiten(std::span<const double> x) {
  std::vector<double> out(x.begin(), x.end());
  if (out.empty()) return out;
  double mean = 0;
  for (double v : x) mean += v;
  mean /= double(x.size());
  double var = 0;
  for (double v : x) var += (v - mean) * (v - mean);
  const double scale = x.size() < 2 ? 1.0 : 1.0 / std::sqrt(var / double(x.size() - 1) + 1e-8);
  for (double& v : out) v = (v - mean) * scale;
  return out;
}

ValueLoss clipped_value_loss(double value, double old_value, double ret, double eps) {
  const double unclipped = (value - ret) * (value - ret);
  const double vc = std::clamp(value, old_value - eps, old_value + eps);
  const double clipped = (vc - ret) * (vc - ret);
  // Inside the clip range both branches are the same function of V; the
  // clipped one wins only outside it, where it is constant in V.
  if (clipped > unclipped) return {0.5 * clipped, 0.0, true};
  return {0.5 * unclipped, value - ret, false};
}

double explained_variance(std::span<const double> pred, std::span<const double> target) {
  SHOG_CHECK(pred.size() == target.size(), ErrorKind::internal, "explained_variance", "{} predictions, {} targets",
             pred.size(), target.size());
  const size_t n = target.size();
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  double mt = 0, md = 0;
  for (size_t i = 0; i < n; ++i) mt += target[i], md += target[i] - pred[i];
  mt /= double(n), md /= double(n);
  double vt = 0, vd = 0;
  for (size_t i = 0; i < n; ++i) {
    vt += (target[i] - mt) * (target[i] - mt);
    const double d = target[i] - pred[i] - md;
    vd += d * d;
  }
  if (vt == 0) return std::numeric_limits<double>::quiet_NaN();
  return 1 - vd / vt;
}

KlController::KlController(double init_coef, double target, double horizon)
    : coef_(init_coef), target_(target), horizon_(horizon) {
  SHOG_CHECK(init_coef >= 0 && target >= 0 && (target == 0 || horizon > 0), ErrorKind::invalid_argument,
             "KlController", "coef {}, target {}, horizon {}", init_coef, target, horizon);
}

void KlController::update(double kl, int64_t n) {
  if (!adaptive()) return;
  const double e = std::clamp(kl / target_ - 1, -0.2, 0.2);
  coef_ *= 1 + e * double(n) / horizon_;
}

}  // namespace shog
