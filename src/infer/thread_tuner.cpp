#include "infer/thread_tuner.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>

#include "ops/gemv.h"

namespace shog {

int ThreadTuner::bucket_of(int64_t rows) {
  if (rows < 1 || rows > ops::kGemvMaxRows) return -1;
  const int b = int(std::bit_width(uint64_t(rows))) - 1;  // 1 -> 0, 2-3 -> 1, 4-7 -> 2, ...
  return b < kBuckets ? b : kBuckets - 1;
}

int ThreadTuner::pick(int64_t rows) {
  const int bi = bucket_of(rows);
  if (max_threads_ <= 1 || bi < 0) return 0;
  Bucket& b = buckets_[size_t(bi)];
  // Warm-up: alternate until each choice has kWarmup samples.
  if (b.one.samples < kWarmup || b.all.samples < kWarmup) return b.one.samples <= b.all.samples ? 1 : max_threads_;
  const bool one_best = b.one.ema <= b.all.ema;
  const double ratio = one_best ? b.all.ema / b.one.ema : b.one.ema / b.all.ema;
  if (++b.since_explore >= explore_interval(ratio)) {
    b.since_explore = 0;
    return one_best ? max_threads_ : 1;
  }
  return one_best ? 1 : max_threads_;
}

int64_t ThreadTuner::explore_interval(double ratio) {
  if (!(ratio < double(kExploreMaxEvery))) return kExploreMaxEvery;  // also a NaN or infinite ratio
  const double by_cost = std::ceil((ratio - 1.0) / kExploreCost);
  return std::clamp(int64_t(by_cost), kExploreEvery, kExploreMaxEvery);
}

void ThreadTuner::record(int64_t rows, int threads, double seconds) {
  const int bi = bucket_of(rows);
  if (bi < 0 || threads <= 0) return;
  Choice& c = choice(buckets_[size_t(bi)], threads);
  const double per_row = seconds / double(rows);
  c.ema = c.samples == 0 ? per_row : (1.0 - kEmaWeight) * c.ema + kEmaWeight * per_row;
  ++c.samples;
}

double ThreadTuner::seconds_per_row(int64_t rows, int threads) const {
  const int bi = bucket_of(rows);
  if (bi < 0) return 0;
  const Bucket& b = buckets_[size_t(bi)];
  return threads == 1 ? b.one.ema : b.all.ema;
}

}  // namespace shog
