#include "align/packing.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/random.h"

namespace shog {

int64_t packed_length(const TokenizedSample& s, PackMode mode) {
  return mode == PackMode::next_token ? int64_t(s.ids.size()) - 1 : int64_t(s.ids.size());
}

bool fits(const TokenizedSample& s, int64_t T, PackMode mode) {
  const int64_t n = packed_length(s, mode);
  return n >= 1 && n <= T;
}

namespace {
// First fit: the first row with room, else a new row. Returns the row.
size_t first_fit(std::vector<int64_t>& used, int64_t n, int64_t T) {
  for (size_t r = 0; r < used.size(); ++r)
    if (used[r] + n <= T) {
      used[r] += n;
      return r;
    }
  used.push_back(n);
  return used.size() - 1;
}
}  // namespace

PackedBatch pack_samples(std::span<const TokenizedSample* const> samples, int64_t T, PackMode mode, int32_t pad_id) {
  std::vector<int64_t> used;
  std::vector<std::vector<size_t>> rows;
  for (size_t i = 0; i < samples.size(); ++i) {
    SHOG_CHECK(fits(*samples[i], T, mode), ErrorKind::invalid_argument, "pack_samples",
               "sample {} has {} tokens; rows hold {}", i, packed_length(*samples[i], mode), T);
    size_t r = first_fit(used, packed_length(*samples[i], mode), T);
    if (r == rows.size()) rows.emplace_back();
    rows[r].push_back(i);
  }
  PackedBatch b;
  b.B = int64_t(rows.size());
  b.T = T;
  b.inputs.assign(size_t(b.B * T), pad_id);
  b.targets.assign(size_t(b.B * T), -1);
  b.weights.assign(size_t(b.B * T), 0.0f);
  b.first.assign(samples.size(), 0);
  b.length.assign(samples.size(), 0);
  for (size_t r = 0; r < rows.size(); ++r) {
    int64_t at = int64_t(r) * T;
    for (size_t i : rows[r]) {
      const TokenizedSample& s = *samples[i];
      const int64_t n = packed_length(s, mode);
      b.first[i] = at;
      b.length[i] = n;
      for (int64_t j = 0; j < n; ++j) {
        b.inputs[size_t(at + j)] = s.ids[size_t(j)];
        if (mode == PackMode::next_token && s.mask[size_t(j + 1)]) {
          b.targets[size_t(at + j)] = s.ids[size_t(j + 1)];
          b.weights[size_t(at + j)] = 1.0f;
        }
      }
      b.seg_lens.push_back(int32_t(n));
      at += n;
    }
    if (at < int64_t(r + 1) * T) b.seg_lens.push_back(int32_t(int64_t(r + 1) * T - at));
  }
  return b;
}

std::vector<std::vector<size_t>> plan_batches(const std::vector<std::vector<int64_t>>& unit_lengths,
                                              std::span<const size_t> order, int64_t T, int64_t max_rows) {
  std::vector<std::vector<size_t>> groups;
  std::vector<int64_t> used;
  std::vector<size_t> cur;
  for (size_t u : order) {
    std::vector<int64_t> trial = used;
    for (int64_t n : unit_lengths[u]) first_fit(trial, n, T);
    if (int64_t(trial.size()) > max_rows && !cur.empty()) {
      groups.push_back(std::move(cur));
      cur.clear();
      trial.clear();
      for (int64_t n : unit_lengths[u]) first_fit(trial, n, T);
    }
    used = std::move(trial);
    cur.push_back(u);
  }
  if (!cur.empty()) groups.push_back(std::move(cur));
  return groups;
}

PackedEpochs::PackedEpochs(std::vector<std::vector<int64_t>> unit_lengths, int64_t T, int64_t max_rows,
                           uint64_t seed)
    : lengths_(std::move(unit_lengths)), T_(T), max_rows_(max_rows), seed_(seed) {
  SHOG_CHECK(!lengths_.empty(), ErrorKind::invalid_argument, "data", "no samples to train on");
  plan();
  groups_per_epoch_ = int64_t(groups_.size());
}

void PackedEpochs::plan() {
  ++epoch_;
  std::vector<size_t> order(lengths_.size());
  std::iota(order.begin(), order.end(), size_t(0));
  Rng rng(seed_ + uint64_t(epoch_) * 0x9E3779B97F4A7C15ull);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[size_t(rng.next_u64() % i)]);
  groups_ = plan_batches(lengths_, order, T_, max_rows_);
  at_ = 0;
}

std::vector<size_t> PackedEpochs::next() {
  if (at_ == groups_.size()) plan();
  return groups_[at_++];
}

}  // namespace shog
