#include "moderation/moderator.h"

#include <algorithm>

#include "core/error.h"

namespace shog {

ModerationVerdict ModerationDecision::verdict(const Policy& p) const {
  ModerationVerdict v;
  v.action = action;
  v.categories = categories;
  if (action == ModerationAction::refuse) v.replacement = p.refusal;
  if (action == ModerationAction::redact) v.replacement = redacted;
  if (action == ModerationAction::block) v.message = p.block_message;
  return v;
}

Moderator::Moderator(std::shared_ptr<const PolicySet> policies, std::shared_ptr<ModerationClassifier> classifier)
    : policies_(std::move(policies)), classifier_(std::move(classifier)) {
  SHOG_ASSERT(policies_ != nullptr);
  for (const auto& c : policies_->categories().all()) {
    int idx = -1;
    if (classifier_) {
      const auto& cc = classifier_->categories();
      auto it = std::find(cc.begin(), cc.end(), c.id);
      if (it != cc.end()) idx = int(it - cc.begin());
    }
    class_index_.push_back(idx);
  }
}

ModerationScores Moderator::score(std::string_view text, bool use_rules, bool use_classifier, size_t hits_from) const {
  ModerationScores s;
  const auto& cats = policies_->categories().all();
  for (const auto& c : cats) s.scores[c.id] = 0.0f;
  if (use_rules) {
    for (auto& h : policies_->rules().detect(text))
      if (h.end > hits_from) {
        s.scores[h.category] = 1.0f;
        s.hits.push_back(std::move(h));
      }
  }
  if (use_classifier && classifier_) {
    const std::vector<float> p = classifier_->score(text);
    for (size_t i = 0; i < cats.size(); ++i)
      if (class_index_[i] >= 0) {
        float& v = s.scores[cats[i].id];
        v = std::max(v, p[size_t(class_index_[i])]);
      }
  }
  return s;
}

ModerationDecision Moderator::decide(const Policy& policy, Direction d, ModerationScores scores,
                                     std::string_view text) const {
  ModerationDecision dec;
  std::vector<std::pair<int, std::string>> triggered;
  for (const auto& [cat, score] : scores.scores) {
    const CategoryRule& r = policy.rule(d, cat);
    if (r.action == ModerationAction::allow || score < r.threshold) continue;
    triggered.push_back({action_severity(r.action), cat});
    if (action_severity(r.action) > action_severity(dec.action)) dec.action = r.action;
  }
  std::stable_sort(triggered.begin(), triggered.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (auto& [sev, cat] : triggered) dec.categories.push_back(cat);
  if (dec.action == ModerationAction::redact) {
    // Redact what the rules located; a category only the classifier saw has
    // no span, so then the whole text goes.
    std::vector<std::pair<uint32_t, uint32_t>> spans;
    bool whole = false;
    for (const auto& cat : dec.categories) {
      if (policy.rule(d, cat).action != ModerationAction::redact) continue;
      bool located = false;
      for (const auto& h : scores.hits)
        if (h.category == cat) spans.push_back({h.begin, h.end}), located = true;
      whole |= !located;
    }
    dec.redacted = whole ? policy.redaction : redact_spans(text, std::move(spans), policy.redaction);
  }
  dec.scores = std::move(scores);
  return dec;
}

ModerationDecision Moderator::moderate(const Policy& policy, Direction d, std::string_view text) const {
  if (policy.allows_everything()) return {};
  return decide(policy, d, score(text, policy.use_rules, policy.use_classifier), text);
}

std::vector<float> moderator_scores(const Moderator& m, const ModerationDataset& data, bool use_rules,
                                    bool use_classifier) {
  const size_t K = data.categories.size();
  std::vector<float> out(data.examples.size() * K, 0.0f);
  for (size_t i = 0; i < data.examples.size(); ++i) {
    const ModerationScores s = m.score(data.examples[i].text, use_rules, use_classifier);
    for (size_t k = 0; k < K; ++k) {
      auto it = s.scores.find(data.categories[k]);
      if (it != s.scores.end()) out[i * K + k] = it->second;
    }
  }
  return out;
}

std::string redact_spans(std::string_view text, std::vector<std::pair<uint32_t, uint32_t>> spans,
                         std::string_view mark) {
  std::sort(spans.begin(), spans.end());
  std::string out;
  size_t pos = 0;
  for (size_t i = 0; i < spans.size();) {
    uint32_t b = spans[i].first, e = spans[i].second;
    for (++i; i < spans.size() && spans[i].first <= e; ++i) e = std::max(e, spans[i].second);
    b = std::max<uint32_t>(b, uint32_t(pos));
    if (e <= b) continue;
    out.append(text.substr(pos, b - pos));
    out.append(mark);
    pos = e;
  }
  out.append(text.substr(std::min(pos, text.size())));
  return out;
}

}  // namespace shog
