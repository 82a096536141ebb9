// What a model knows about the synthetic world's requests, before any
// alignment: for every request, the log-likelihood the model gives to a
// sentence that calls it harmless, minus that of a sentence that calls it
// harmful, with the request in the same place in both; and how well that
// difference ranks the harmful requests above the benign ones, as the area
// under the ROC curve (1: every harmful request ranked above every benign
// one; 0.5: chance), per split of the request pools.
//
// Why: the demo pretrains on the world's knowledge text (data/synth/knowledge.h)
// so that the base model knows which held-out requests are harmful. Whether it
// does is a property of the base model alone, and measuring it this way takes
// seconds where an SFT run takes minutes. The probe sentences come in two
// kinds, because the answer differs (docs/eval.md, "Knowledge probe"):
//   - in the knowledge text's own wording (sentences its templates write),
//     which tells whether pretraining learnt the text;
//   - in wording the text never uses (a question, a yes/no exchange), which
//     tells whether what it learnt is about the request itself, usable in
//     another context such as a chat prompt, or only about the template.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/synth/split.h"
#include "eval/eval_model.h"

namespace shog {

struct ProbeSentences {
  std::string name;              // short label for the report
  std::string benign, harmful;   // "{x}" stands for the request
  bool knowledge_text_wording;   // the knowledge text writes sentences of this form
};
// The probe's sentence pairs, in report order.
const std::vector<ProbeSentences>& knowledge_probe_sentences();

struct KnowledgeProbeResult {
  ProbeSentences sentences;
  std::array<double, 3> auc{};          // per synth::Split (train, val, test)
  std::array<int64_t, 3> harmful{}, benign{};  // requests per split
};

// One result per sentence pair over every request of the world. `batch_rows`
// rows of the model's context per forward pass.
std::vector<KnowledgeProbeResult> probe_knowledge(EvalModel& m, int64_t batch_rows = 8);

// The same for any sentence pairs (tests use it).
std::vector<KnowledgeProbeResult> probe_knowledge(EvalModel& m, const std::vector<ProbeSentences>& sentences,
                                                  int64_t batch_rows);

// Area under the ROC curve of scores where `positive` should be higher than
// `negative`: the share of (positive, negative) pairs ordered so, ties counted
// half. NaN when either list is empty.
double roc_auc(const std::vector<double>& positive, const std::vector<double>& negative);

}  // namespace shog
