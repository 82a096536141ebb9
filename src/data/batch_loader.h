// Batches of (inputs, targets) for next-token training, read from token
// shards through mmap.
//
// A sample is a window of T+1 consecutive tokens: inputs are its first T,
// targets its last T (the same tokens shifted by one). Shard s of n tokens
// holds floor((n-1)/T) windows starting at 0, T, 2T, ...; windows never span
// two shards. An epoch visits every window once: in a shuffled order drawn
// from (seed, epoch) for training, or in file order for validation. A batch is
// B consecutive windows of that order; the tail of an epoch that cannot fill
// a batch is skipped, so every batch is full and the epoch length is exact.
//
// The loader's whole state is a Position (epoch, index into the epoch's
// order, plus what it must match on resume), which a checkpoint saves as JSON
// and restore() reinstates: the batches after a restore are identical to the
// ones the original run would have produced.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "data/token_shard.h"

namespace shog {

enum class LoaderOrder : uint8_t { shuffled, sequential };

struct LoaderPosition {
  uint64_t epoch = 0;
  uint64_t index = 0;  // windows of this epoch's order already served
  // What the position is only valid for; restore() checks each.
  uint64_t seed = 0;
  int64_t batch = 0, seq_len = 0;
  LoaderOrder order = LoaderOrder::shuffled;
  uint64_t windows = 0;      // windows per epoch
  uint64_t fingerprint = 0;  // of the shards' token counts and checksums, in order
  bool operator==(const LoaderPosition&) const = default;
};

void to_json(nlohmann::json& j, const LoaderPosition& p);
void from_json(const nlohmann::json& j, LoaderPosition& p);  // throws shog::Error(bad_input)

class BatchLoader {
 public:
  // Opens and validates every shard. Throws shog::Error if a shard is corrupt,
  // the shards disagree on the vocabulary, or there are fewer than `batch`
  // windows of seq_len+1 tokens in all.
  BatchLoader(const std::vector<std::string>& paths, int64_t batch, int64_t seq_len, uint64_t seed,
              LoaderOrder order = LoaderOrder::shuffled);

  // Fills inputs[batch * seq_len] and targets[batch * seq_len] (row-major
  // [B, T]) and advances; crosses into the next epoch when this one is spent.
  void next(int32_t* inputs, int32_t* targets);

  LoaderPosition position() const;
  // Throws shog::Error(invalid_argument) if `p` was saved for other shards,
  // shapes, seed or order.
  void restore(const LoaderPosition& p);
  // Back to the first batch of epoch 0 (a validation pass starts here).
  void rewind();

  int64_t batch() const { return batch_; }
  int64_t seq_len() const { return seq_len_; }
  uint64_t epoch() const { return epoch_; }
  uint64_t windows() const { return total_windows_; }
  uint64_t batches_per_epoch() const { return total_windows_ / uint64_t(batch_); }
  // Input tokens served per epoch: batches_per_epoch * B * T.
  uint64_t tokens_per_epoch() const { return batches_per_epoch() * uint64_t(batch_) * uint64_t(seq_len_); }
  uint32_t vocab_size() const { return vocab_; }

 private:
  void start_epoch(uint64_t epoch);
  void read_window(uint64_t w, int32_t* inputs, int32_t* targets) const;

  std::vector<TokenShard> shards_;
  std::vector<uint64_t> first_window_;  // per shard: global index of its first window; plus the total
  int64_t batch_, seq_len_;
  uint64_t seed_;
  LoaderOrder order_;
  uint32_t vocab_ = 0;
  uint64_t total_windows_ = 0, fingerprint_ = 0;
  uint64_t epoch_ = 0, index_ = 0;
  std::vector<uint64_t> perm_;  // this epoch's window order (empty when sequential)
};

}  // namespace shog
