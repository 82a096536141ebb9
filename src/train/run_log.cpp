#include "train/run_log.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "core/file_io.h"
#include "train/loss_plot.h"

namespace shog {

MetricsLog::MetricsLog(std::string path, int64_t resume_upto) : path_(std::move(path)) {
  if (resume_upto >= 0 && file_exists(path_)) {
    std::ifstream in(path_);
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      try {
        auto j = nlohmann::json::parse(line);
        if (j.value("step", int64_t(0)) <= resume_upto) rows_.push_back(j);
      } catch (...) {  // a torn last line from a crash: drop it
      }
    }
  }
  std::string text;
  for (auto& r : rows_) text += r.dump() + "\n";
  write_file_atomic(path_, text);
  out_.open(path_, std::ios::app);
}

void MetricsLog::append(const nlohmann::json& row) {
  rows_.push_back(row);
  out_ << row.dump() << "\n" << std::flush;
}

void plot_metrics(const std::string& svg_path, const std::string& title, const std::string& y_label,
                  const std::vector<nlohmann::json>& rows, const std::vector<PlotKey>& keys) {
  std::vector<PlotSeries> series;
  for (auto& k : keys) {
    PlotSeries s{k.label, k.color, {}};
    for (auto& r : rows)
      if (r.contains(k.key) && r.contains("step") && r[k.key].is_number())
        s.points.push_back({r["step"].get<double>(), r[k.key].get<double>()});
    series.push_back(std::move(s));
  }
  write_svg_plot(svg_path, title, "step", y_label, series);
}

std::string format_eta(double s) {
  if (!(s >= 0) || s > 1e7) return "--:--";
  int t = int(s + 0.5);
  return t >= 3600 ? fmt::format("{}:{:02d}:{:02d}", t / 3600, t / 60 % 60, t % 60)
                   : fmt::format("{:02d}:{:02d}", t / 60, t % 60);
}

ProgressLine::ProgressLine(int64_t total_steps, int64_t log_every, bool enabled)
    : total_(total_steps), log_every_(log_every), enabled_(enabled), tty_(enabled && isatty(STDERR_FILENO)) {}

ProgressLine::~ProgressLine() {
  if (tty_ && last_ > 0) std::fprintf(stderr, "\n");
}

void ProgressLine::show(int64_t step, const std::string& text, double secs) {
  if (last_ > 0) sum_secs_ += secs, ++timed_;  // the first step pays one-off setup
  last_ = step;
  if (!enabled_) return;
  const double avg = timed_ ? sum_secs_ / double(timed_) : secs;
  std::string line = fmt::format("step {:>{}}/{} | {} | ETA {}", step, int(std::to_string(total_).size()), total_,
                                 text, format_eta(avg * double(total_ - step)));
  if (tty_) {
    int width = 24, filled = int(double(step) / double(total_) * width);
    std::fprintf(stderr, "\r[%s%s] %s\x1b[K", std::string(size_t(filled), '#').c_str(),
                 std::string(size_t(width - filled), '.').c_str(), line.c_str());
  } else if (step % log_every_ == 0 || step == total_) {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

}  // namespace shog
