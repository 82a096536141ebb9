// The demo's closing table: every stage with its wall time and figures, the
// models side by side on the test split against the targets, and
// the erosion curve. Written as summary.md and summary.json in the run
// directory.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "demo/stage_runner.h"
#include "eval/evaluate.h"

namespace shog::demo {

// Per model: the rates (value, hits, n), checker reward, reward-model score
// and bits per byte; what a stage record keeps of an evaluation.
nlohmann::ordered_json eval_summary_json(const EvalResults& r);

// Writes <out_dir>/summary.md and summary.json; returns the Markdown.
// `aligned` names the stage whose model the targets are checked on.
std::string write_summary(const std::string& out_dir, const std::vector<StageRecord>& stages,
                          const std::string& aligned, double run_seconds);

}  // namespace shog::demo
