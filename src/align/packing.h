// Sequence packing for the alignment trainers. Chat samples are short and
// of very different lengths; padding each to the longest would waste most
// of every batch. Instead samples are placed back to back in rows of T
// tokens (first fit, in the order given) and the model is told where each
// one starts (Transformer::forward's seg_lens): positions restart and no
// token attends across a boundary, so a packed sample computes exactly what
// it would alone. The rest of a row is one padding segment with no loss.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace shog {

// A tokenized sample: ids, and mask[i] = 1 where ids[i] is trained on (the
// chat template's assistant tokens).
struct TokenizedSample {
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;
};

// How a sample becomes model input:
//   next_token: inputs ids[0..n-2], targets ids[1..n-1], weight mask[i+1]
//               (SFT, DPO: log-probs of the trained tokens);
//   whole:      inputs ids[0..n-1], no targets (reward: score at the last token).
enum class PackMode { next_token, whole };
int64_t packed_length(const TokenizedSample& s, PackMode mode);

struct PackedBatch {
  int64_t B = 0, T = 0;
  std::vector<int32_t> inputs, targets;  // [B*T]; target -1: no loss
  std::vector<float> weights;            // [B*T]: 1 on trained tokens, else 0
  std::vector<int32_t> seg_lens;         // for Transformer::forward
  std::vector<int64_t> first, length;    // per sample: first token in [B*T], token count
  int64_t last(size_t i) const { return first[i] + length[i] - 1; }
};

// Packs the samples into as few rows of T as first fit finds. Every sample
// must satisfy 1 <= packed_length <= T (see fits); pad_id fills the rest.
PackedBatch pack_samples(std::span<const TokenizedSample* const> samples, int64_t T, PackMode mode, int32_t pad_id);
bool fits(const TokenizedSample& s, int64_t T, PackMode mode);

// Splits units (a unit: samples that must share a batch, e.g. the chosen and
// rejected of one pair) taken in `order` into consecutive groups whose
// samples first-fit into at most max_rows rows of T. unit_lengths[u] lists
// the packed lengths of unit u's samples.
std::vector<std::vector<size_t>> plan_batches(const std::vector<std::vector<int64_t>>& unit_lengths,
                                              std::span<const size_t> order, int64_t T, int64_t max_rows);

// Preference pairs (anything with TokenizedSample members `chosen` and
// `rejected`) are packed as units: both sides of a pair share a micro-batch,
// chosen at 2k and rejected at 2k+1 of the batch's samples.
template <class Pair>
std::vector<std::vector<int64_t>> pair_lengths(const std::vector<Pair>& pairs, PackMode mode) {
  std::vector<std::vector<int64_t>> out;
  for (auto& p : pairs) out.push_back({packed_length(p.chosen, mode), packed_length(p.rejected, mode)});
  return out;
}
template <class Pair>
PackedBatch pack_pairs(const std::vector<Pair>& pairs, std::span<const size_t> units, int64_t T, PackMode mode,
                       int32_t pad_id) {
  std::vector<const TokenizedSample*> ptrs;
  for (size_t u : units) ptrs.push_back(&pairs[u].chosen), ptrs.push_back(&pairs[u].rejected);
  return pack_samples(ptrs, T, mode, pad_id);
}

// Endless micro-batches over a data set: each epoch a new seeded shuffle of
// the units, planned into groups by plan_batches.
class PackedEpochs {
 public:
  PackedEpochs(std::vector<std::vector<int64_t>> unit_lengths, int64_t T, int64_t max_rows, uint64_t seed);
  std::vector<size_t> next();  // the units of the next micro-batch
  int64_t groups_per_epoch() const { return groups_per_epoch_; }
  int64_t epoch() const { return epoch_; }

 private:
  void plan();
  std::vector<std::vector<int64_t>> lengths_;
  int64_t T_, max_rows_, groups_per_epoch_ = 0, epoch_ = -1;
  uint64_t seed_;
  std::vector<std::vector<size_t>> groups_;
  size_t at_ = 0;
};

}  // namespace shog
