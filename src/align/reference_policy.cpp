#include "align/reference_policy.h"

#include <cstring>

namespace shog {

ReferencePolicy::ReferencePolicy(FinetuneModel& fm) : fm_(fm) {
  if (fm.adapter()) return;
  const Transformer& m = fm.model();
  copy_ = std::make_unique<Transformer>(m.config(), m.compute_dtype());
  std::memcpy(copy_->params(), m.params(), size_t(m.num_floats()) * sizeof(float));
  copy_->sync_compute_weights();
}

void ReferencePolicy::logps(std::vector<Rollout>& rs, int64_t T, int64_t max_rows) {
  if (copy_) {
    reply_logps(*copy_, rs, T, max_rows, fm_.pad_id(), &Rollout::ref_logp);
    return;
  }
  Transformer& m = fm_.model();
  const bool was_training = m.training();
  m.set_training(false);
  m.attach_lora(nullptr);
  reply_logps(m, rs, T, max_rows, fm_.pad_id(), &Rollout::ref_logp);
  m.attach_lora(fm_.adapter());
  m.set_training(was_training);
}

}  // namespace shog
