// Training and evaluating the moderation classifier (classifier.h) on
// labelled JSONL, one example a line:
//
//   {"text": "...", "labels": {"violent_crimes": 0, "hate": 1, ...},
//    "direction": "input"|"output" (optional), "kind": "..." (optional)}
//
// as the synthetic world writes moderation_<split>.jsonl (or the user's
// own). An example whose labels are all 0 is benign; the evaluation reports
// how many of those are flagged anyway ("over-flagging"), overall and per
// `kind` when the data tags them (e.g. benign-but-scary prompts).
//
// The objective is binary cross-entropy per category on the pooled hidden
// state; the body is fine-tuned with the head unless freeze_body is set.
// After the last epoch, one temperature per category is fitted on the
// validation split (minimum NLL), then the directory is written.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "moderation/classifier.h"

namespace shog {

struct ModerationExample {
  std::string text, direction, kind;
  std::vector<uint8_t> labels;  // per category of the dataset
  bool benign() const;
};

struct ModerationDataset {
  std::vector<std::string> categories;
  std::vector<ModerationExample> examples;
};

// Reads a JSONL file. With `categories` empty, the categories are every
// label key seen (built-ins in taxonomy order, then custom ones sorted);
// otherwise labels outside the list are ignored and a category a record
// does not mention counts 0. Throws shog::Error(bad_input) at "<file>:<line>".
ModerationDataset read_moderation_data(const std::string& path, const std::vector<std::string>& categories = {});

// A file is the training set; a directory holds moderation_train.jsonl and
// optionally moderation_val.jsonl (or _validation) and moderation_test.jsonl.
struct ModerationSplits {
  std::string train, val, test;  // "" when absent
};
ModerationSplits find_moderation_splits(const std::string& dir_or_file);

struct CategoryMetrics {
  std::string category;
  int64_t tp = 0, fp = 0, fn = 0, tn = 0;
  int64_t support() const { return tp + fn; }
  double precision() const;  // 0 when nothing was predicted positive
  double recall() const;
  double f1() const;
};

struct ClassifierEval {
  std::vector<CategoryMetrics> per_category;
  double micro_precision = 0, micro_recall = 0, micro_f1 = 0, macro_f1 = 0;  // macro: over categories with support
  double nll = 0;                // mean binary cross-entropy of the calibrated probabilities
  int64_t examples = 0, benign = 0, benign_flagged = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> benign_by_kind;  // kind -> (benign examples, flagged)
  double seconds = 0;
  double overflag_rate() const { return benign ? double(benign_flagged) / double(benign) : 0.0; }
  nlohmann::json to_json() const;
  std::string to_table() const;  // a fixed-width report for the terminal and docs
};

// Raw logits [n, K] of every example (first max_seq tokens), in batches.
// The dataset's categories must equal the classifier's.
std::vector<float> classifier_logits(ModerationClassifier& clf, const ModerationDataset& data, int64_t batch = 32);
// Metrics at `threshold` on the classifier's calibrated probabilities.
ClassifierEval evaluate_classifier(ModerationClassifier& clf, const ModerationDataset& data, float threshold = 0.5f,
                                   int64_t batch = 32);
ClassifierEval evaluate_probabilities(const std::vector<float>& probs, const ModerationDataset& data, float threshold);

// One temperature per category minimising the NLL of sigmoid(z / T) on the
// labels (a grid over log T in [-1.5, 2.5], refined by golden-section search).
std::vector<float> fit_temperatures(const std::vector<float>& logits, const ModerationDataset& data);

struct ClassifierTrainConfig {
  std::string data;            // a JSONL file or a directory (find_moderation_splits)
  std::string val_data;        // explicit validation file; default: the directory's, else a split of train
  std::string base = "tiny";   // a model directory (a checkpoint, or a run directory with `latest`) or a preset
  std::string tokenizer;       // for a preset; default: the model directory's (or its parent's) tokenizer.json
  std::string out;
  std::vector<std::string> categories;  // default: those in the training data
  std::string pooling = "mean";
  int64_t epochs = 3, batch_size = 16, max_seq = 128, seed = 1234, threads = 0;
  double lr = 3e-4, head_lr = 3e-3, weight_decay = 0.01, grad_clip = 1.0, warmup_fraction = 0.05;
  double val_fraction = 0.1;
  double pos_weight = 1.0;     // weight of positive labels in the loss (rare categories)
  int64_t max_examples = 0;    // cap on training examples (0: all)
  bool freeze_body = false;
  float threshold = 0.5f;      // for the reported metrics
  bool progress = true;
  void validate() const;       // throws shog::Error naming the flag
};

struct EpochReport {
  int64_t epoch = 0, steps = 0;
  double train_loss = 0, seconds = 0, examples_per_second = 0;
  ClassifierEval val;          // uncalibrated (temperature 1) until the final report
};

struct ClassifierTrainResult {
  std::vector<EpochReport> epochs;
  ClassifierEval final_val;    // calibrated
  std::vector<std::string> categories;
  std::vector<float> temperature;
  int64_t train_examples = 0, val_examples = 0;
  double seconds = 0;
};

ClassifierTrainResult train_moderation_classifier(const ClassifierTrainConfig& cfg,
                                                  const std::function<void(const EpochReport&)>& on_epoch = {});

}  // namespace shog
