// The stages of `shoggoth demo`, each run once per run directory: a stage
// that finished leaves stages/<name>.json (its effective configuration, wall
// time, result figures, a stamp that is new each time it runs, and the stamps
// of the stages it reads), and a later run of the demo keeps it when its
// configuration is unchanged and every stage it reads still carries the stamp
// it was made from. So an interrupted demo resumes where it stopped, a changed
// recipe reruns the stages it touches and those that read them (not those
// that merely come later), and a stage made from an input that has since been
// made again (even by a run that was cut off before reaching it) runs again.
// A stage that throws leaves no marker.
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
  std::string stamp;       // when the run that produced the result finished (unique per run of the stage)
  nlohmann::ordered_json result;
};

class StageRunner {
 public:
  StageRunner(std::string run_dir, int total_stages, bool verbose);
  // Runs fn (whose return value is the stage's result figures) unless a
  // finished marker with this config, made from the current results of the
  // stages named in `reads` (each run before this one), exists; either way
  // returns the record.
  const StageRecord& run(const std::string& name, const std::string& title, const std::string& config,
                         const std::vector<std::string>& reads, const std::function<nlohmann::ordered_json()>& fn);
  const std::vector<StageRecord>& records() const { return records_; }
  const StageRecord* find(const std::string& name) const;

 private:
  std::string dir_;
  int total_;
  bool verbose_;
  std::vector<StageRecord> records_;
};

}  // namespace shog::demo
