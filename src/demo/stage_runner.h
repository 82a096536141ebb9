// The stages of `shoggoth demo`, each run once per run directory: a stage
// that finished leaves stages/<name>.json (its effective configuration, wall
// time and result figures), and a later run of the demo skips it when that
// configuration is unchanged and no earlier stage had to run again. So an
// interrupted demo resumes where it stopped, and a changed recipe reruns
// from the first stage it touches. A stage that throws leaves no marker.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace shog::demo {

struct StageRecord {
  std::string name, title;
  double seconds = 0;      // wall time of the run that produced the result
  bool skipped = false;    // taken from an earlier run's marker
  nlohmann::ordered_json result;
};

class StageRunner {
 public:
  StageRunner(std::string run_dir, int total_stages, bool verbose);
  // Runs fn (whose return value is the stage's result figures) unless an
  // unchanged, finished marker exists; either way returns the record.
  const StageRecord& run(const std::string& name, const std::string& title, const std::string& config,
                         const std::function<nlohmann::ordered_json()>& fn);
  const std::vector<StageRecord>& records() const { return records_; }
  const StageRecord* find(const std::string& name) const;

 private:
  std::string dir_;
  int total_;
  bool verbose_;
  bool rerun_rest_ = false;  // an earlier stage ran: everything after it must too
  std::vector<StageRecord> records_;
};

}  // namespace shog::demo
