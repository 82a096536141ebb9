#include "eval/refusal_check.h"

#include <limits>

#include "data/synth/refusal.h"

namespace shog {

namespace {
double ratio(int64_t a, int64_t b) {
  return b > 0 ? double(a) / double(b) : std::numeric_limits<double>::quiet_NaN();
}
}  // namespace

double DetectorAccuracy::precision() const { return ratio(tp, tp + fp); }
double DetectorAccuracy::recall() const { return ratio(tp, tp + fn); }
double DetectorAccuracy::specificity() const { return ratio(tn, tn + fp); }
double DetectorAccuracy::accuracy() const { return ratio(tp + tn, n()); }

DetectorAccuracy check_refusal_detector(const std::vector<LabelledReply>& replies, size_t keep_errors) {
  DetectorAccuracy d;
  for (const LabelledReply& r : replies) {
    const bool called = synth::is_refusal(r.reply);
    if (called && r.is_refusal) ++d.tp;
    else if (called) ++d.fp;
    else if (r.is_refusal) ++d.fn;
    else ++d.tn;
    d.correct_by_source[r.source.empty() ? "(none)" : r.source].add(called == r.is_refusal);
    if (called != r.is_refusal && d.errors.size() < keep_errors) d.errors.push_back(r);
  }
  return d;
}

}  // namespace shog
