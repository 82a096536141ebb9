#include "eval/report.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "core/file_io.h"
#include "data/synth/hazards.h"
#include "eval/bar_chart.h"
#include "tokenizer/utf8.h"

namespace shog {

namespace {

using ojson = nlohmann::ordered_json;

ojson rate_json(const Rate& r) {
  auto [lo, hi] = r.interval95();
  return {{"value", r.value()}, {"hits", r.hits}, {"n", r.n}, {"ci95", {lo, hi}}};
}

// nlohmann writes NaN as null too; saying so keeps the intent visible.
ojson finite_or_null(double v) { return std::isfinite(v) ? ojson(v) : ojson(nullptr); }

std::string percent_cell(const Rate& r) {
  if (r.n == 0) return "n/a";
  return fmt::format("{:.1f}% ({}/{})", 100 * r.value(), r.hits, r.n);
}

std::string number_cell(double v, const char* spec = "{:.3f}") {
  return std::isfinite(v) ? fmt::format(fmt::runtime(spec), v) : "n/a";
}

std::string percent(double v) { return std::isfinite(v) ? fmt::format("{:.1f}%", 100 * v) : "n/a"; }

std::string verdict_text(const TestPrompt& p, const ReplyVerdict& v) {
  if (p.kind == PromptKind::harmful) return v.refused ? "refused (good)" : "complied (bad)";
  if (v.refused) return "refused (bad)";
  return v.correct ? "correct" : "wrong";
}

const std::string& request_text(const TestPrompt& p) { return p.prompt.back().content; }

// Every other line of a table: "| a | b |".
std::string row(const std::vector<std::string>& cells) {
  std::string s = "|";
  for (const auto& c : cells) s += " " + c + " |";
  return s + "\n";
}

// One value per model, in column order.
template <class F>
std::vector<double> per_model(const EvalResults& r, F f) {
  std::vector<double> v;
  for (const ModelEval& m : r.models) v.push_back(f(m));
  return v;
}

std::vector<std::string> model_names(const EvalResults& r) {
  std::vector<std::string> n;
  for (const ModelEval& m : r.models) n.push_back(m.name);
  return n;
}

BarChart safety_chart(const EvalResults& r) {
  BarChart c;
  c.title = "Safety (lower is better)";
  c.y_label = "share of prompts";
  c.percent = true;
  c.series = model_names(r);
  c.groups = {"harmful compliance", "over-refusal (benign)", "refusals of helpful"};
  c.values = {per_model(r, [](const ModelEval& m) { return m.metrics.harmful_compliance.value(); }),
              per_model(r, [](const ModelEval& m) { return m.metrics.over_refusal.value(); }),
              per_model(r, [](const ModelEval& m) { return m.metrics.helpful_refusal.value(); })};
  return c;
}

BarChart accuracy_chart(const EvalResults& r) {
  BarChart c;
  c.title = "Task accuracy (higher is better)";
  c.y_label = "share of prompts / mean reward";
  c.percent = true;
  c.series = model_names(r);
  c.groups = {"task accuracy (helpful)", "benign accuracy", "checker reward"};
  c.values = {per_model(r, [](const ModelEval& m) { return m.metrics.task_accuracy.value(); }),
              per_model(r, [](const ModelEval& m) { return m.metrics.benign_accuracy.value(); }),
              per_model(r, [](const ModelEval& m) { return m.metrics.checker_reward; })};
  return c;
}

BarChart bpb_chart(const EvalResults& r) {
  BarChart c;
  c.title = "Bits per byte (lower is better)";
  c.y_label = "bits per byte";
  c.series = model_names(r);
  c.groups = {r.bpb_chat ? "assistant replies" : "text"};
  c.values = {per_model(r, [](const ModelEval& m) {
    return m.bpb ? m.bpb->value() : std::numeric_limits<double>::quiet_NaN();
  })};
  return c;
}

// An identifier (file:line, task, source) as inline code, which needs no
// escaping, unless it holds what would end the span or the cell.
std::string code_span(const std::string& s) {
  return s.find_first_of("`|\n\r") == std::string::npos && !s.empty() ? "`" + s + "`" : markdown_cell(s);
}

// "Violent crimes (`violent_crimes`)" for a hazard id, the id alone otherwise.
std::string category_label(const std::string& id) {
  const int i = hazard_index(id);
  return i < 0 ? code_span(id) : std::string(hazard_categories()[size_t(i)].name) + " (" + code_span(id) + ")";
}

int64_t count_kind(const EvalResults& r, PromptKind k) {
  int64_t n = 0;
  for (const auto& p : r.prompts) n += p.kind == k;
  return n;
}

}  // namespace

std::string markdown_cell(const std::string& text, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  for (size_t i = 0; i < text.size();) {
    if (max_chars > 0 && chars == max_chars) {
      out += "…";
      break;
    }
    size_t len = utf8::sequence_length(p + i, text.size() - i);
    ++chars;
    if (len == 0) {  // not UTF-8: one replacement character per bad byte
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    const char c = text[i];
    if (len > 1) out.append(text, i, len);
    else if (c == '\n') out += "<br>";
    else if (c == '\r' || c == '\t') out += ' ';
    else if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '|' || c == '\\' || c == '`' || c == '*' || c == '_' || c == '[' || c == ']' || c == '#')
      out += '\\', out += c;
    else if (static_cast<unsigned char>(c) < 0x20) out += "\xEF\xBF\xBD";
    else out += c;
    i += len;
  }
  return out;
}

ojson eval_results_json(const EvalResults& r) {
  const DetectorAccuracy& d = r.detector;
  ojson by_source = ojson::object();
  for (const auto& [src, rate] : d.correct_by_source) by_source[src] = rate_json(rate);
  ojson j{{"format", "shoggoth.eval"},
          {"version", 1},
          {"split", r.split},
          {"prompts_file", r.files.prompts},
          {"prompts", r.prompts.size()},
          {"prompt_kinds",
           {{"helpful", count_kind(r, PromptKind::helpful)},
            {"harmful", count_kind(r, PromptKind::harmful)},
            {"benign", count_kind(r, PromptKind::benign)}}},
          {"decoding", {{"temperature", 0}, {"max_new_tokens", r.max_new_tokens}}},
          {"refusal_detector",
           {{"file", r.files.refusals},
            {"n", d.n()},
            {"tp", d.tp},
            {"fp", d.fp},
            {"fn", d.fn},
            {"tn", d.tn},
            {"precision", d.precision()},
            {"recall", d.recall()},
            {"specificity", d.specificity()},
            {"accuracy", d.accuracy()},
            {"correct_by_source", by_source}}},
          {"bits_per_byte_text",
           r.bpb_source.empty() ? ojson(nullptr)
                                : ojson{{"file", r.bpb_source}, {"scored", r.bpb_chat ? "assistant replies" : "all"}}},
          {"reward_model", r.reward_model.empty() ? ojson(nullptr) : ojson(r.reward_model)}};
  ojson models = ojson::array();
  for (const ModelEval& m : r.models) {
    ojson cats = ojson::object();
    for (const auto& [cat, rate] : m.metrics.compliance_by_category) cats[cat] = rate_json(rate);
    ojson frame_compliance = ojson::object(), frame_refusal = ojson::object();
    for (const auto& [frame, rate] : m.metrics.compliance_by_frame) frame_compliance[frame] = rate_json(rate);
    for (const auto& [frame, rate] : m.metrics.over_refusal_by_frame) frame_refusal[frame] = rate_json(rate);
    ojson e{{"name", m.name},
            {"dir", m.dir},
            {"lora_base", m.base_dir.empty() ? ojson(nullptr) : ojson(m.base_dir)},
            {"task_accuracy", rate_json(m.metrics.task_accuracy)},
            {"harmful_compliance", rate_json(m.metrics.harmful_compliance)},
            {"over_refusal", rate_json(m.metrics.over_refusal)},
            {"benign_accuracy", rate_json(m.metrics.benign_accuracy)},
            {"helpful_refusal", rate_json(m.metrics.helpful_refusal)},
            {"truncated_replies", rate_json(m.metrics.truncated)},
            {"checker_reward_mean", m.metrics.checker_reward},
            {"harmful_compliance_by_category", cats},
            {"harmful_compliance_by_frame", frame_compliance},
            {"over_refusal_by_frame", frame_refusal}};
    if (!r.reward_model.empty()) {
      e["reward_model_score_mean"] = m.rm_score_mean;
      e["reward_model_scored"] = m.rm_scored;
    }
    if (!m.knowledge.empty()) {
      ojson probes = ojson::array();
      for (const KnowledgeProbeResult& k : m.knowledge) {
        ojson auc = ojson::object(), n = ojson::object();
        for (synth::Split sp : synth::kSplits) {
          const size_t i = size_t(sp);
          auc[synth::split_name(sp)] = finite_or_null(k.auc[i]);
          n[synth::split_name(sp)] = {{"harmful", k.harmful[i]}, {"benign", k.benign[i]}};
        }
        probes.push_back({{"name", k.sentences.name},
                          {"benign", k.sentences.benign},
                          {"harmful", k.sentences.harmful},
                          {"knowledge_text_wording", k.sentences.knowledge_text_wording},
                          {"auc", auc},
                          {"requests", n}});
      }
      e["knowledge_probe"] = std::move(probes);
    }
    if (m.copy)
      e["copy_probe"] = {{"first_nats", m.copy->first_nats},  {"repeat_nats", m.copy->repeat_nats},
                         {"copy_share", m.copy->copy_share()}, {"runs", m.copy->runs},
                         {"scored_per_run", m.copy->scored_per_run}};
    if (m.refusal)
      e["refusal_propensity"] = {{"samples", m.refusal->samples},
                                 {"auc", finite_or_null(m.refusal->auc)},
                                 {"harmful_compliance_sampled", m.refusal->harmful_compliance_sampled},
                                 {"over_refusal_sampled", m.refusal->over_refusal_sampled},
                                 {"best", {{"refuse_at", m.refusal->best.refuse_at},
                                           {"harmful_compliance", m.refusal->best.harmful_compliance},
                                           {"over_refusal", m.refusal->best.over_refusal}}},
                                 {"harmful", m.refusal->harmful},
                                 {"benign", m.refusal->benign}};
    if (m.best_of_n) {
      const BestOfN& b = *m.best_of_n;
      auto metrics = [](const ReplyMetrics& x) {
        return ojson{{"task_accuracy", rate_json(x.task_accuracy)},
                     {"harmful_compliance", rate_json(x.harmful_compliance)},
                     {"over_refusal", rate_json(x.over_refusal)},
                     {"helpful_refusal", rate_json(x.helpful_refusal)},
                     {"checker_reward", finite_or_null(x.checker_reward)}};
      };
      e["best_of_n"] = {{"n", b.n},
                        {"temperature", r.best_of_temperature},
                        {"chosen", metrics(b.metrics)},
                        {"oracle", metrics(b.oracle)},
                        {"reward_model_score_mean", finite_or_null(b.score_mean)},
                        {"sample_score_mean", finite_or_null(b.sample_score_mean)}};
    }
    if (m.bpb)
      e["bits_per_byte"] = {{"value", m.bpb->value()},       {"nats", m.bpb->nats},
                            {"tokens", m.bpb->tokens},       {"bytes", m.bpb->bytes},
                            {"nats_per_token", m.bpb->nats_per_token()}, {"skipped", m.bpb->skipped}};
    models.push_back(std::move(e));
  }
  j["models"] = std::move(models);
  return j;
}

std::string eval_report_markdown(const EvalResults& r, const ReportOptions& opt) {
  std::string md;
  std::string title;
  for (const ModelEval& m : r.models) title += (title.empty() ? "" : " vs ") + m.name;
  md += "# Evaluation: " + title + "\n\n";
  md += "Models, one column each:\n\n";
  for (const ModelEval& m : r.models)
    md += m.base_dir.empty() ? fmt::format("- `{}`: model `{}`\n", m.name, m.dir)
                             : fmt::format("- `{}`: LoRA adapter `{}` over `{}`\n", m.name, m.dir, m.base_dir);
  md += fmt::format(
      "\nPrompts: {} from `{}` ({} helpful, {} harmful, {} benign), answered greedily (temperature 0) with at most "
      "{} new tokens. A rate shows its counts; `results.json` adds 95% (Wilson) intervals, and "
      "`replies/<model>.jsonl` every reply with its verdict.\n\n",
      r.prompts.size(), r.files.prompts, count_kind(r, PromptKind::helpful), count_kind(r, PromptKind::harmful),
      count_kind(r, PromptKind::benign), r.max_new_tokens);

  // The metrics table.
  std::vector<std::string> head{"metric"}, rule{"---"};
  for (const ModelEval& m : r.models) head.push_back("`" + m.name + "`"), rule.push_back("---:");
  md += row(head) + row(rule);
  auto rate_row = [&](const std::string& label, const Rate ReplyMetrics::*field) {
    std::vector<std::string> cells{label};
    for (const ModelEval& m : r.models) cells.push_back(percent_cell(m.metrics.*field));
    md += row(cells);
  };
  auto value_row = [&](const std::string& label, auto f) {
    std::vector<std::string> cells{label};
    for (const ModelEval& m : r.models) cells.push_back(f(m));
    md += row(cells);
  };
  rate_row("task accuracy (helpful) ↑", &ReplyMetrics::task_accuracy);
  rate_row("harmful compliance ↓", &ReplyMetrics::harmful_compliance);
  rate_row("over-refusal (benign) ↓", &ReplyMetrics::over_refusal);
  rate_row("benign accuracy ↑", &ReplyMetrics::benign_accuracy);
  rate_row("refusals of helpful prompts ↓", &ReplyMetrics::helpful_refusal);
  value_row("checker reward, mean ↑", [](const ModelEval& m) { return number_cell(m.metrics.checker_reward); });
  if (!r.reward_model.empty())
    value_row("reward-model score, mean ↑", [&](const ModelEval& m) {
      // Conversations longer than the reward model's context get no score.
      const int64_t n = int64_t(r.prompts.size());
      return number_cell(m.rm_score_mean) + (m.rm_scored < n ? fmt::format(" ({} of {})", m.rm_scored, n) : "");
    });
  if (!r.bpb_source.empty())
    value_row("bits per byte ↓", [](const ModelEval& m) { return m.bpb ? number_cell(m.bpb->value(), "{:.4f}") : "n/a"; });
  rate_row("replies cut at the token limit", &ReplyMetrics::truncated);
  md += "\n";
  if (!r.reward_model.empty())
    md += fmt::format("Reward model: `{}`, scoring each (prompt, reply) conversation.\n", r.reward_model);
  if (!r.bpb_source.empty()) {
    md += r.bpb_chat ? fmt::format("Bits per byte: on the assistant replies of `{}`, given their prompts.", r.bpb_source)
                     : fmt::format("Bits per byte: on the text of `{}`.", r.bpb_source);
    for (const ModelEval& m : r.models)
      if (m.bpb && m.bpb->skipped)
        md += fmt::format(" `{}` skipped {} conversations longer than its context.", m.name, m.bpb->skipped);
    md += "\n";
  }
  md += "\n![Safety rates](safety.svg)\n\n![Task accuracy](accuracy.svg)\n\n";
  if (!r.bpb_source.empty()) md += "![Bits per byte](bits_per_byte.svg)\n\n";

  // How far the safety rates can be trusted.
  const DetectorAccuracy& d = r.detector;
  md += "## Refusal detector\n\n";
  md += fmt::format(
      "Every \"refused\" above is the call of the rule-based refusal detector (`src/data/synth/refusal.h`). "
      "On the {} labelled replies of `{}` (phrasings held out from training) it scores:\n\n",
      d.n(), r.files.refusals);
  md += row({"precision", "recall", "specificity", "accuracy", "TP", "FP", "FN", "TN"}) +
        row({"---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"}) +
        row({percent(d.precision()), percent(d.recall()), percent(d.specificity()), percent(d.accuracy()),
             std::to_string(d.tp), std::to_string(d.fp), std::to_string(d.fn), std::to_string(d.tn)});
  md += fmt::format(
      "\nA refusal it misses ({} of refusals) counts as harmful compliance; an answer it takes for a refusal ({} of "
      "non-refusals) counts as over-refusal. Differences between models smaller than these error rates are not "
      "evidence. The model replies are not the labelled phrasings, so these rates are an estimate for them.\n\n",
      percent(1 - d.recall()), percent(1 - d.specificity()));
  md += row({"source", "called right"}) + row({"---", "---:"});
  for (const auto& [src, rate] : d.correct_by_source) md += row({code_span(src), percent_cell(rate)});
  if (!d.errors.empty()) {
    md += "\nFirst replies it gets wrong:\n\n" + row({"line", "labelled", "reply"}) + row({"---", "---", "---"});
    for (const auto& e : d.errors)
      md += row({code_span(e.where), e.is_refusal ? "refusal" : "not a refusal", markdown_cell(e.reply, opt.reply_chars)});
  }
  md += "\n";

  // Harmful compliance per hazard category.
  std::map<std::string, int64_t> cats;
  for (const auto& p : r.prompts)
    if (p.kind == PromptKind::harmful) cats[p.category] += 1;
  if (!cats.empty()) {
    md += "## Harmful compliance by hazard category\n\n";
    std::vector<std::string> h{"category", "prompts"}, ru{"---", "---:"};
    for (const ModelEval& m : r.models) h.push_back("`" + m.name + "`"), ru.push_back("---:");
    md += row(h) + row(ru);
    for (const auto& [cat, n] : cats) {
      std::vector<std::string> cells{category_label(cat), std::to_string(n)};
      for (const ModelEval& m : r.models) {
        auto it = m.metrics.compliance_by_category.find(cat);
        cells.push_back(it == m.metrics.compliance_by_category.end() ? "n/a" : percent(it->second.value()));
      }
      md += row(cells);
    }
    md += "\n";
  }

  // Over-refusal and harmful compliance per request frame: a frame whose
  // benign prompts are refused far more often than the rest points at a cue
  // in its wording, not at the requests (docs/synth.md, "Held-out frames").
  std::map<std::string, std::pair<int64_t, int64_t>> frames;  // frame -> (benign, harmful) prompts
  for (const auto& p : r.prompts) {
    if (p.frame.empty()) continue;
    if (p.kind == PromptKind::benign) frames[p.frame].first += 1;
    if (p.kind == PromptKind::harmful) frames[p.frame].second += 1;
  }
  if (!frames.empty()) {
    md += "## Refusals by request frame\n\n";
    std::vector<std::string> h{"frame", "benign prompts"}, ru{"---", "---:"};
    for (const ModelEval& m : r.models) h.push_back("over-refusal `" + m.name + "`"), ru.push_back("---:");
    h.push_back("harmful prompts"), ru.push_back("---:");
    for (const ModelEval& m : r.models) h.push_back("harmful compliance `" + m.name + "`"), ru.push_back("---:");
    md += row(h) + row(ru);
    auto cell = [](const std::map<std::string, Rate>& rates, const std::string& frame) -> std::string {
      auto it = rates.find(frame);
      return it == rates.end() ? "n/a" : percent(it->second.value());
    };
    for (const auto& [frame, n] : frames) {
      std::vector<std::string> cells{markdown_cell(frame, opt.reply_chars), std::to_string(n.first)};
      for (const ModelEval& m : r.models) cells.push_back(cell(m.metrics.over_refusal_by_frame, frame));
      cells.push_back(std::to_string(n.second));
      for (const ModelEval& m : r.models) cells.push_back(cell(m.metrics.compliance_by_frame, frame));
      md += row(cells);
    }
    md += "\n";
  }

  // What each model knows about the requests (knowledge_probe.h).
  if (std::any_of(r.models.begin(), r.models.end(), [](const ModelEval& m) { return !m.knowledge.empty(); })) {
    md += "## Knowledge probe\n\n";
    md += "How well each model ranks the world's harmful requests above its benign ones by the likelihood it gives a "
          "sentence calling the request harmful against one calling it harmless: area under the ROC curve (1: "
          "every harmful request above every benign one; 0.5: chance), per split of the request pools. The "
          "knowledge text's wording shows whether pretraining learnt that text; new wording, whether what it "
          "learnt is about the request itself (docs/eval.md, \"Knowledge probe\").\n\n";
    md += row({"model", "sentences", "train", "val", "test"}) + row({"---", "---", "---:", "---:", "---:"});
    for (const ModelEval& m : r.models)
      for (const KnowledgeProbeResult& k : m.knowledge) {
        std::vector<std::string> cells{code_span(m.name), markdown_cell(k.sentences.name)};
        for (synth::Split sp : synth::kSplits) {
          const size_t i = size_t(sp);
          cells.push_back(fmt::format("{} ({}/{})", number_cell(k.auc[i]), k.harmful[i], k.benign[i]));
        }
        md += row(cells);
      }
    md += "\nEach cell: AUC (harmful/benign requests).\n\n";
  }

  // Whether each model copies from its context (copy_probe.h).
  if (std::any_of(r.models.begin(), r.models.end(), [](const ModelEval& m) { return m.copy.has_value(); })) {
    md += "## Copy probe\n\n";
    md += "Whether each model copies from its context: its loss on a run of random tokens read for the first time, "
          "and on the same run repeated right after it. A model that copies pays little for the repeat; one that "
          "cannot pays the same twice (docs/eval.md, \"Copy probe\").\n\n";
    md += row({"model", "first run (nats/token)", "repeat (nats/token)", "saved"}) +
          row({"---", "---:", "---:", "---:"});
    for (const ModelEval& m : r.models)
      if (m.copy)
        md += row({code_span(m.name), number_cell(m.copy->first_nats), number_cell(m.copy->repeat_nats),
                   fmt::format("{:.0f}%", 100 * m.copy->copy_share())});
    md += "\n";
  }

  // How well each model's refusals tell the kinds apart (refusal_propensity.h).
  if (std::any_of(r.models.begin(), r.models.end(), [](const ModelEval& m) { return m.refusal.has_value(); })) {
    md += "## Refusal propensity\n\n";
    md += "Each harmful and benign prompt answered several times at temperature 1; a prompt's propensity is the "
          "share of its replies refused. The AUC says how well propensity ranks harmful prompts above benign ones "
          "(0.5: chance). The best threshold is the rule \"refuse when the propensity is at least t\" with the "
          "smallest larger error, chosen on these prompts: an optimistic bound on what changing how often the "
          "model refuses could reach without teaching it which requests are harmful (docs/eval.md, \"Refusal "
          "propensity\").\n\n";
    md += row({"model", "samples", "AUC", "sampled: harmful compliance", "sampled: over-refusal",
               "best threshold: refuse at", "harmful compliance", "over-refusal"}) +
          row({"---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"});
    for (const ModelEval& m : r.models)
      if (m.refusal)
        md += row({code_span(m.name), std::to_string(m.refusal->samples), number_cell(m.refusal->auc),
                   percent(m.refusal->harmful_compliance_sampled), percent(m.refusal->over_refusal_sampled),
                   number_cell(m.refusal->best.refuse_at),
                   percent(m.refusal->best.harmful_compliance), percent(m.refusal->best.over_refusal)});
    md += "\n";
  }

  // Best-of-N with the reward model (best_of_n.h).
  if (std::any_of(r.models.begin(), r.models.end(), [](const ModelEval& m) { return m.best_of_n.has_value(); })) {
    md += "## Best of N\n\n";
    md += fmt::format(
        "Each prompt answered N times at temperature {}; the reward model `{}` scores every sample and the "
        "highest-scored one is the reply. The oracle takes a correct sample wherever one was drawn: what a "
        "perfect judge could choose from the same samples. Where the oracle fails too, no sample was good "
        "(docs/eval.md, \"Best of N\").\n\n",
        r.best_of_temperature, r.reward_model);
    md += row({"model", "N", "task accuracy", "harmful compliance", "over-refusal", "oracle: task accuracy",
               "oracle: harmful compliance", "oracle: over-refusal", "reward-model score: chosen / one sample"}) +
          row({"---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"});
    for (const ModelEval& m : r.models)
      if (m.best_of_n) {
        const BestOfN& b = *m.best_of_n;
        md += row({code_span(m.name), std::to_string(b.n), percent_cell(b.metrics.task_accuracy),
                   percent_cell(b.metrics.harmful_compliance), percent_cell(b.metrics.over_refusal),
                   percent_cell(b.oracle.task_accuracy), percent_cell(b.oracle.harmful_compliance),
                   percent_cell(b.oracle.over_refusal),
                   number_cell(b.score_mean) + " / " + number_cell(b.sample_score_mean)});
      }
    md += "\n";
  }

  // A few prompts of each kind, every model's reply side by side.
  if (opt.samples_per_kind > 0) {
    md += "## Sample replies\n\n";
    for (PromptKind k : kPromptKinds) {
      size_t shown = 0;
      for (size_t i = 0; i < r.prompts.size() && shown < opt.samples_per_kind; ++i) {
        const TestPrompt& p = r.prompts[i];
        if (p.kind != k) continue;
        if (shown++ == 0) md += fmt::format("### {}\n\n", prompt_kind_name(k));
        md += fmt::format("{}{}: {}\n\n", code_span(p.where),
                          p.kind == PromptKind::harmful ? " (" + category_label(p.category) + ")"
                                                        : (p.task.empty() ? "" : " (" + code_span(p.task) + ")"),
                          markdown_cell(request_text(p), opt.reply_chars));
        md += row({"model", "reply", "verdict"}) + row({"---", "---", "---"});
        for (const ModelEval& m : r.models)
          md += row({"`" + m.name + "`", markdown_cell(m.replies[i].text, opt.reply_chars),
                     verdict_text(p, m.verdicts[i])});
        md += "\n";
      }
    }
  }
  return md;
}

void write_eval_report(const EvalResults& r, const std::string& dir, const ReportOptions& opt) {
  make_dirs(dir);
  make_dirs(dir + "/replies");
  for (const ModelEval& m : r.models) {
    AtomicFile out(dir + "/replies/" + m.name + ".jsonl");
    for (size_t i = 0; i < r.prompts.size(); ++i) {
      const TestPrompt& p = r.prompts[i];
      ojson j{{"line", p.where},
              {"kind", prompt_kind_name(p.kind)},
              {"category", p.category},
              {"task", p.task},
              {"prompt", request_text(p)},
              {"reply", m.replies[i].text},
              {"finish", finish_reason_name(m.replies[i].finish)},
              {"refused", m.verdicts[i].refused},
              {"correct", m.verdicts[i].correct},
              {"reward", m.verdicts[i].reward}};
      if (!m.rm_scores.empty()) j["reward_model_score"] = m.rm_scores[i];
      if (m.best_of_n)
        j["best_of_n"] = {{"reply", m.best_of_n->reply(i).text},
                          {"sample", m.best_of_n->chosen[i]},
                          {"reward_model_score", finite_or_null(m.best_of_n->chosen_score[i])},
                          {"refused", m.best_of_n->verdict(i).refused},
                          {"correct", m.best_of_n->verdict(i).correct}};
      // Generated bytes need not be valid UTF-8; replace what is not rather than fail.
      out.write(j.dump(-1, ' ', false, ojson::error_handler_t::replace));
      out.write("\n");
    }
    out.commit();
    if (m.best_of_n) {  // every sample: what rejection-sampling data or another judge would start from
      const BestOfN& b = *m.best_of_n;
      AtomicFile all(dir + "/replies/" + m.name + ".best_of_n.jsonl");
      for (size_t k = 0; k < b.samples.size(); ++k) {
        const size_t i = k / size_t(b.n);
        ojson j{{"line", r.prompts[i].where},
                {"kind", prompt_kind_name(r.prompts[i].kind)},
                {"sample", int64_t(k % size_t(b.n))},
                {"chosen", b.chosen[i] == int64_t(k % size_t(b.n))},
                {"reply", b.samples[k].text},
                {"finish", finish_reason_name(b.samples[k].finish)},
                {"reward_model_score", finite_or_null(b.sample_scores[k])},
                {"refused", b.sample_verdicts[k].refused},
                {"correct", b.sample_verdicts[k].correct}};
        all.write(j.dump(-1, ' ', false, ojson::error_handler_t::replace));
        all.write("\n");
      }
      all.commit();
    }
  }
  write_bar_chart(dir + "/safety.svg", safety_chart(r));
  write_bar_chart(dir + "/accuracy.svg", accuracy_chart(r));
  if (!r.bpb_source.empty()) write_bar_chart(dir + "/bits_per_byte.svg", bpb_chart(r));
  write_file_atomic(dir + "/results.json",
                    eval_results_json(r).dump(2, ' ', false, ojson::error_handler_t::replace) + "\n");
  write_file_atomic(dir + "/report.md", eval_report_markdown(r, opt));
}

}  // namespace shog
