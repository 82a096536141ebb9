#include "align/preference_loss.h"

#include <cmath>

#include "core/error.h"

namespace shog {

double log_sigmoid(double x) { return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x)); }

static double sigmoid(double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }

PairLoss bradley_terry_loss(double r_chosen, double r_rejected, double margin) {
  const double d = r_chosen - r_rejected - margin;
  const double g = -sigmoid(-d);  // dL/dd
  return {-log_sigmoid(d), g, -g};
}

DpoLossKind parse_dpo_loss(const std::string& s, const std::string& where) {
  if (s == "sigmoid") return DpoLossKind::sigmoid;
  if (s == "ipo") return DpoLossKind::ipo;
  throw Error(ErrorKind::invalid_argument, where, "unknown DPO loss '" + s + "' (expected sigmoid or ipo)");
}

PairLoss dpo_loss(DpoLossKind kind, double beta, double eps, double pi_c, double pi_r, double ref_c, double ref_r) {
  const double z = (pi_c - pi_r) - (ref_c - ref_r);
  double loss, g;  // g = dL/dz
  if (kind == DpoLossKind::sigmoid) {
    loss = -(1 - eps) * log_sigmoid(beta * z) - eps * log_sigmoid(-beta * z);
    g = -(1 - eps) * beta * sigmoid(-beta * z) + eps * beta * sigmoid(beta * z);
  } else {
    const double d = z - 1 / (2 * beta);
    loss = d * d;
    g = 2 * d;
  }
  return {loss, g, -g};
}

}  // namespace shog
