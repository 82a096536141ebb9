// A progress bar on stderr for long work (training merges, preparing shards):
// done/total, throughput in the caller's unit, and ETA. Redraws at most ~10
// times a second so that calling update() in a hot loop stays cheap, and only
// draws when stderr is a terminal unless `force` is set, so logs and test
// output are not flooded with carriage returns.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace shog {

class ProgressBar {
 public:
  // `unit` names what is counted ("MB", "merges"); `scale` divides the raw
  // count for display (1e6 to show bytes as MB).
  ProgressBar(std::string label, uint64_t total, std::string unit = "", double scale = 1.0, bool force = false);
  ~ProgressBar();  // finishes the line if not already finished

  // Sets the absolute count; thread-safe (any thread may report progress).
  void update(uint64_t done);
  void add(uint64_t delta) { update(done_.fetch_add(delta, std::memory_order_relaxed) + delta); }
  void finish();

 private:
  void draw(uint64_t done, bool final);
  std::string label_, unit_;
  uint64_t total_;
  double scale_;
  bool enabled_;
  std::atomic<uint64_t> done_{0};
  std::atomic<int64_t> last_draw_ns_{0};
  std::atomic<bool> finished_{false};
  std::chrono::steady_clock::time_point start_;
};

}  // namespace shog
