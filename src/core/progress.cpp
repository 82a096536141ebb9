#include "core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace shog {

ProgressBar::ProgressBar(std::string label, uint64_t total, std::string unit, double scale, bool force)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), scale_(scale > 0 ? scale : 1.0),
      enabled_(force || isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(uint64_t done) {
  done_.store(done, std::memory_order_relaxed);
  if (!enabled_) return;
  int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count();
  int64_t last = last_draw_ns_.load(std::memory_order_relaxed);
  // Only the thread that wins the exchange draws; others skip, so concurrent
  // callers never interleave partial lines.
  if (now - last < 100'000'000) return;
  if (!last_draw_ns_.compare_exchange_strong(last, now)) return;
  draw(done, false);
}

void ProgressBar::finish() {
  if (finished_.exchange(true)) return;
  if (enabled_) draw(done_.load(), true);
}

static std::string fmt_duration(double s) {
  if (s < 0 || s > 1e7) return "--:--";
  int t = static_cast<int>(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%02d:%02d", t / 60, t % 60);
  return buf;
}

void ProgressBar::draw(uint64_t done, bool final) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double frac = total_ ? std::min(1.0, double(done) / double(total_)) : 0.0;
  double rate = elapsed > 0 ? double(done) / scale_ / elapsed : 0.0;
  double eta = (rate > 0 && total_) ? (double(total_ - std::min(done, total_)) / scale_) / rate : -1;
  constexpr int width = 30;
  int filled = static_cast<int>(frac * width);
  std::string bar(filled, '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "\r%s [%s] %5.1f%% %.1f/%.1f %s  %.2f %s/s  %s %s\x1b[K%s", label_.c_str(), bar.c_str(),
               frac * 100, double(done) / scale_, double(total_) / scale_, unit_.c_str(), rate, unit_.c_str(),
               final ? "elapsed" : "ETA", fmt_duration(final ? elapsed : eta).c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace shog
