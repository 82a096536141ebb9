// What every training run leaves behind and shows while it runs: metrics as
// JSON lines (metrics.jsonl), SVG plots of chosen metrics, and a progress
// line with throughput and ETA (a bar on a terminal, a line every
// log_every steps otherwise). Shared by pretraining and the alignment
// trainers so that all runs look and resume alike.
#pragma once
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace shog {

class MetricsLog {
 public:
  // Opens <path>. resume_upto >= 0 keeps the lines with step <= resume_upto
  // (rewriting the file, dropping a torn last line); < 0 starts it empty.
  MetricsLog(std::string path, int64_t resume_upto = -1);
  void append(const nlohmann::json& row);
  const std::vector<nlohmann::json>& rows() const { return rows_; }

 private:
  std::string path_;
  std::vector<nlohmann::json> rows_;
  std::ofstream out_;
};

struct PlotKey {
  std::string key, label, color;
};
// One series per key, from the rows that have it, against "step".
void plot_metrics(const std::string& svg_path, const std::string& title, const std::string& y_label,
                  const std::vector<nlohmann::json>& rows, const std::vector<PlotKey>& keys);

std::string format_eta(double seconds);

class ProgressLine {
 public:
  ProgressLine(int64_t total_steps, int64_t log_every, bool enabled);
  ~ProgressLine();
  // After step `step` (1-based) took `secs`; `text` is the metrics part.
  void show(int64_t step, const std::string& text, double secs);

 private:
  int64_t total_, log_every_, timed_ = 0, last_ = 0;
  bool enabled_, tty_;
  double sum_secs_ = 0;
};

}  // namespace shog
