// Muon for the hidden layers' matrices, AdamW for everything else: the split
// Muon's authors use (Jordan et al. 2024) and nanochat trains with. For each
// 2-D weight inside a transformer layer (q, k, v, o, gate, up, down):
//
//   M = M + (1 - mu) (G - M)                 momentum (torch's lerp_)
//   U = G + mu (M - G)   (Nesterov; else U = M)
//   O = newton_schulz(U)                     ~ the orthogonal factor of U
//   W = W (1 - lr wd) - lr sqrt(max(1, rows / cols)) O
//
// so every matrix moves by an update whose singular values are all about lr,
// whatever the scale of its gradient. The token embedding, the output head,
// the norms and the smear gain keep AdamW: they are looked up or act
// elementwise, where orthogonalising an update means nothing.
//
// The state lives in an AdamWOptimizer's blocks: Muon's momentum in m at its
// matrices' offsets (v stays 0 there), AdamW's moments elsewhere. A
// checkpoint therefore stores either optimizer in one format; the trainer
// records which one it was so that a resume cannot mix them.
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "model/parameters.h"
#include "train/adamw_optimizer.h"

namespace shog {

struct MuonHyper {
  float lr = 0.02f;
  float momentum = 0.95f;
  bool nesterov = true;
  int ns_steps = 5;
  float weight_decay = 0.0f;
  DType ns_dtype = DType::bf16;  // the Newton-Schulz GEMMs' inputs
};

class MuonOptimizer {
 public:
  // state: holds the moments and the step count, and its hyper-parameters
  // drive the AdamW part; it must outlive this.
  MuonOptimizer(AdamWOptimizer& state, MuonHyper hyper);

  // Whether Muon (rather than AdamW) updates this entry: a trainable 2-D
  // weight inside a transformer layer.
  static bool takes(const ParamEntry& e);

  // One update: AdamW at adam_lr, Muon at muon_lr. Clipping and the
  // non-finite check are AdamWOptimizer::step's (one global norm over every
  // trainable gradient, applied to both parts). Returns that norm.
  double step(float* params, const float* grads, double adam_lr, double muon_lr, float clip_norm,
              bf16* params16 = nullptr);

  const MuonHyper& hyper() const { return hyper_; }

 private:
  AdamWOptimizer& state_;
  MuonHyper hyper_;
};

}  // namespace shog
