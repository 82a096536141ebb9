// The evaluation's output directory:
//   report.md            one column per model (in the order given): the
//                        metrics table, the plots, the refusal detector's own
//                        accuracy (how far the safety rates can be trusted),
//                        harmful compliance per hazard category, and a few
//                        replies per prompt kind side by side;
//   results.json         every figure with its counts and 95% intervals;
//   safety.svg           harmful compliance and over-refusal per model;
//   accuracy.svg         task and benign accuracy, checker reward per model;
//   bits_per_byte.svg    when measured;
//   replies/<name>.jsonl every reply with its verdict (and reward-model score).
// Every file is written atomically; nothing in them depends on the clock, so
// the same models and options give the same bytes.
#pragma once
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "eval/evaluate.h"

namespace shog {

struct ReportOptions {
  size_t samples_per_kind = 3;  // prompts shown per kind in "Sample replies"
  size_t reply_chars = 280;     // replies cut to this many characters there
};

nlohmann::ordered_json eval_results_json(const EvalResults& r);
std::string eval_report_markdown(const EvalResults& r, const ReportOptions& opt = {});
// Creates `dir` and writes every file listed above.
void write_eval_report(const EvalResults& r, const std::string& dir, const ReportOptions& opt = {});

// Text made safe for one Markdown table cell: invalid UTF-8 replaced by
// U+FFFD, cut to max_chars characters ("…" appended), HTML and Markdown
// specials escaped, newlines as <br>.
std::string markdown_cell(const std::string& text, size_t max_chars = 0);

}  // namespace shog
