#include "demo/stage_runner.h"

#include <chrono>
#include <cstdio>

#include "core/error.h"
#include "core/file_io.h"

namespace shog::demo {

StageRunner::StageRunner(std::string run_dir, int total_stages, bool verbose)
    : dir_(std::move(run_dir)), total_(total_stages), verbose_(verbose) {
  make_dirs(dir_ + "/stages");
}

const StageRecord& StageRunner::run(const std::string& name, const std::string& title, const std::string& config,
                                    const std::vector<std::string>& reads,
                                    const std::function<nlohmann::ordered_json()>& fn) {
  const std::string marker = dir_ + "/stages/" + name + ".json";
  StageRecord rec;
  rec.name = name, rec.title = title;
  const int index = int(records_.size()) + 1;
  nlohmann::ordered_json inputs = nlohmann::ordered_json::object();  // stage read -> the stamp of its result
  for (const std::string& r : reads) {
    const StageRecord* in = find(r);
    SHOG_CHECK(in != nullptr, ErrorKind::internal, "demo", "stage {} reads stage {}, which has not run before it",
               name, r);
    inputs[r] = in->stamp;
  }
  if (file_exists(marker)) {
    nlohmann::ordered_json m;
    try {
      m = nlohmann::ordered_json::parse(read_file(marker));
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorKind::bad_input, marker, std::string("not a stage record (") + e.what() + "); delete it to rerun");
    }
    // A marker without a stamp (from before stamps) never matches, so its stage runs once more.
    if (m.value("config", std::string()) == config && m.contains("result") && m.contains("stamp") &&
        m.value("inputs", nlohmann::ordered_json()) == inputs) {
      rec.skipped = true;
      rec.stamp = m["stamp"].get<std::string>();
      rec.seconds = m.value("seconds", 0.0);
      rec.result = m["result"];
      std::fprintf(stderr, "\n[%d/%d] %s: done in an earlier run (%.0f s), kept\n", index, total_, title.c_str(),
                   rec.seconds);
      records_.push_back(std::move(rec));
      return records_.back();
    }
  }
  std::fprintf(stderr, "\n[%d/%d] %s\n", index, total_, title.c_str());
  const auto t0 = std::chrono::steady_clock::now();
  rec.result = fn();
  rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Nanoseconds since the epoch: a later run of the same stage always gets another stamp.
  rec.stamp = std::to_string(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  nlohmann::ordered_json m{{"stage", name},         {"seconds", rec.seconds}, {"config", config},
                           {"stamp", rec.stamp},    {"inputs", inputs},       {"result", rec.result}};
  write_file_atomic(marker, m.dump(2) + "\n");
  if (verbose_) std::fprintf(stderr, "[%d/%d] %s: %.1f s\n", index, total_, title.c_str(), rec.seconds);
  records_.push_back(std::move(rec));
  return records_.back();
}

const StageRecord* StageRunner::find(const std::string& name) const {
  for (const auto& r : records_)
    if (r.name == name) return &r;
  return nullptr;
}

}  // namespace shog::demo
