#include "train/muon_optimizer.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/adamw.h"
#include "ops/newton_schulz.h"

namespace shog {

MuonOptimizer::MuonOptimizer(AdamWOptimizer& state, MuonHyper hyper) : state_(state), hyper_(hyper) {}

bool MuonOptimizer::takes(const ParamEntry& e) {
  return !e.frozen && e.shape.size() == 2 && e.name.rfind("model.layers.", 0) == 0;
}

double MuonOptimizer::step(float* params, const float* grads, double adam_lr, double muon_lr, float clip_norm,
                           bf16* params16) {
  const ParamTable& table = state_.table();
  const int64_t t = state_.steps_taken() + 1;
  const double norm = checked_gradient_norm(table, grads, t);
  const float scale = ops::clip_scale(norm, clip_norm);
  state_.set_steps_taken(t);
  ops::AdamWHyper h = state_.hyper();
  h.lr = float(adam_lr);
  const float mu = hyper_.momentum, keep = float(1.0 - muon_lr * double(hyper_.weight_decay));
  std::vector<const ParamEntry*> muon_entries;
  for (auto& e : table.entries()) {
    if (e.frozen) continue;
    if (takes(e)) {
      muon_entries.push_back(&e);
      continue;
    }
    ops::adamw_update(params + e.offset, grads + e.offset, state_.m().data() + e.offset, state_.v().data() + e.offset,
                      e.numel, h, t, e.decay, scale, params16 && e.is_matrix ? params16 + e.offset : nullptr);
  }
  // One matrix per thread at a time: the Newton-Schulz GEMMs of a 4-layer,
  // 256-wide model are too small to split well over cores (each then runs
  // single-threaded inside this region), and the matrices are independent:
  // each result depends on its own matrix alone.
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t k = 0; k < muon_entries.size(); k++) {
    const ParamEntry& e = *muon_entries[k];
    float* p = params + e.offset;
    const float* g = grads + e.offset;
    float* m = state_.m().data() + e.offset;
    std::vector<float> u(static_cast<size_t>(e.numel));
    for (int64_t i = 0; i < e.numel; i++) {
      const float gi = g[i] * scale;
      m[i] += (1.0f - mu) * (gi - m[i]);
      u[size_t(i)] = hyper_.nesterov ? gi + mu * (m[i] - gi) : m[i];
    }
    const int64_t rows = e.shape[0], cols = e.shape[1];
    ops::newton_schulz_orthogonalize(u.data(), rows, cols, hyper_.ns_steps, hyper_.ns_dtype, u.data());
    const float step_size = float(muon_lr * std::sqrt(std::max(1.0, double(rows) / double(cols))));
    const float k_decay = e.decay ? keep : 1.0f;
    for (int64_t i = 0; i < e.numel; i++) p[i] = p[i] * k_decay - step_size * u[size_t(i)];
    if (params16 && e.is_matrix) convert_f32_to_bf16(p, params16 + e.offset, size_t(e.numel));
  }
  return norm;
}

}  // namespace shog
