// How many threads a small decode step runs on, learnt from its own timings.
//
// A decode step of a few rows does little work per parallel region, so
// whether a second thread helps depends on the machine's state more than on
// the model: on an idle machine two threads read the weights faster, but
// when that core also runs the server's HTTP threads (or a client), every
// one of the step's ~100 parallel regions waits for a descheduled thread and
// the step takes several times longer (docs/benchmarks.md, "Serving"). So
// the engine times its steps and picks, per bucket of row counts, the faster
// of one thread and all threads, trying the other one now and then in case
// the machine's state has changed.
//
// Only steps of up to ops::kGemvMaxRows rows are tuned: there each output
// element of every product is computed by one thread whatever the thread
// count (ops::gemv, and past 2 rows ops::panel_gemm_bf16 or _f32), so the
// choice never changes a result. Larger steps (prefill) keep the caller's
// thread count.
#pragma once
#include <array>
#include <cstdint>

namespace shog {

class ThreadTuner {
 public:
  static constexpr int kBuckets = 5;          // rows 1, 2-3, 4-7, 8-15, 16
  static constexpr int64_t kWarmup = 3;       // samples of each choice before choosing
  static constexpr int64_t kExploreEvery = 32;  // then one step in this many (at least) tries the other choice
  // ... or fewer, so that trying the other choice costs at most this share
  // of the time: a choice r times slower is tried every (r - 1) / kExploreCost
  // steps (16 rows on one thread of two took 1.7x as long: every 72 steps, not
  // 32, which was 2.3% of a serving run's time), but at least once in
  // kExploreMaxEvery steps, so a change of the machine's state is still seen.
  static constexpr double kExploreCost = 0.01;
  static constexpr int64_t kExploreMaxEvery = 256;
  static constexpr double kEmaWeight = 0.2;   // weight of the newest sample

  // max_threads: the most threads a step may use (1 disables tuning).
  explicit ThreadTuner(int max_threads = 1) : max_threads_(max_threads) {}

  // The thread count for a step of `rows` rows, or 0 for "leave it as it is"
  // (too many rows, or nothing to choose from).
  int pick(int64_t rows);
  // The step's wall time with the count pick() returned for it.
  void record(int64_t rows, int threads, double seconds);

  // Mean seconds per row of a choice in a bucket (0: no sample yet). For tests.
  double seconds_per_row(int64_t rows, int threads) const;
  // How many steps apart the other choice is tried, given the ratio of its
  // time to the best one's.
  static int64_t explore_interval(double ratio);

 private:
  struct Choice {
    double ema = 0;       // seconds per row
    int64_t samples = 0;
  };
  struct Bucket {
    Choice one, all;      // 1 thread, max_threads_
    int64_t since_explore = 0;  // steps on the best choice since the other was last tried
  };
  static int bucket_of(int64_t rows);
  Choice& choice(Bucket& b, int threads) { return threads == 1 ? b.one : b.all; }

  int max_threads_;
  std::array<Bucket, kBuckets> buckets_{};
};

}  // namespace shog
