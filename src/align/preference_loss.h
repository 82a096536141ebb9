// Pairwise preference losses and their gradients, per pair. Plain functions
// of a few scalars so that tests can hold them against PyTorch autograd.
//
// Bradley-Terry (reward model; Ouyang et al. 2022, eq. 1):
//   L = -log sigmoid(r_c - r_r - m)          (m: optional margin, Llama 2)
// DPO (Rafailov et al. 2023), with z = (pi_c - pi_r) - (ref_c - ref_r), the
// log-ratio difference of summed response log-probs:
//   sigmoid: L = -(1-eps) log sigmoid(beta z) - eps log sigmoid(-beta z)
//            (eps: label smoothing, conservative DPO)
//   ipo:     L = (z - 1/(2 beta))^2          (Azar et al. 2023)
#pragma once
#include <string>

namespace shog {

struct PairLoss {
  double loss;
  double d_first, d_second;  // dL/d(chosen term), dL/d(rejected term)
};

// log sigmoid(x), stable for large |x|.
double log_sigmoid(double x);

PairLoss bradley_terry_loss(double r_chosen, double r_rejected, double margin = 0);

enum class DpoLossKind { sigmoid, ipo };
DpoLossKind parse_dpo_loss(const std::string& s, const std::string& where);

// Gradients are with respect to the policy's summed log-probs pi_c, pi_r.
PairLoss dpo_loss(DpoLossKind kind, double beta, double label_smoothing, double pi_chosen, double pi_rejected,
                  double ref_chosen, double ref_rejected);

}  // namespace shog
