// `shoggoth moderator`: the learned moderation classifier.
//
//   shoggoth moderator train --data DIR_OR_JSONL --base MODEL_DIR_OR_PRESET --out DIR
//                            [--tokenizer TOK] [--epochs 3] [--batch-size 16] [--max-seq 128]
//                            [--lr 3e-4] [--head-lr 3e-3] [--pooling mean|last] [--freeze-body] ...
//   shoggoth moderator eval  --model DIR --data test.jsonl|DIR [--threshold 0.5] [--json]
//                            [--policy-file F [--no-classifier]]   (rules too, or rules alone)
//
// train fine-tunes a transformer with a multi-label head on labelled JSONL
// (src/moderation/classifier_train.h: format, loss, calibration), printing
// validation metrics each epoch; eval prints precision/recall/F1 per
// category and the over-flagging of benign examples.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "cli/command.h"
#include "core/error.h"
#include "moderation/classifier_train.h"
#include "moderation/moderator.h"

namespace {

void print_epoch(const shog::EpochReport& r, int64_t epochs) {
  std::printf("epoch %lld/%lld: train loss %.4f | val micro P %.3f R %.3f F1 %.3f, macro F1 %.3f, NLL %.4f, "
              "over-flagging %.1f%% | %.1f s, %.0f examples/s\n",
              (long long)r.epoch, (long long)epochs, r.train_loss, r.val.micro_precision, r.val.micro_recall,
              r.val.micro_f1, r.val.macro_f1, r.val.nll, 100 * r.val.overflag_rate(), r.seconds,
              r.examples_per_second);
  std::fflush(stdout);
}

void setup_train(CLI::App& app) {
  auto c = std::make_shared<shog::ClassifierTrainConfig>();
  auto cats = std::make_shared<std::string>();
  auto no_progress = std::make_shared<bool>(false);
  app.add_option("--data", c->data, "Labelled JSONL, or a directory with moderation_{train,val,test}.jsonl")
      ->required();
  app.add_option("--val-data", c->val_data, "Validation JSONL (default: the directory's, else --val-fraction of train)");
  app.add_option("--base", c->base, "Body: a model directory (checkpoint or run dir) or a preset (tiny, small, ...)")
      ->capture_default_str();
  app.add_option("--tokenizer", c->tokenizer, "Tokenizer (required with a preset; default: the model directory's)");
  app.add_option("--out", c->out, "Output classifier directory")->required();
  app.add_option("--categories", *cats, "Comma-separated categories, in head order (default: the data's labels)");
  app.add_option("--pooling", c->pooling, "Pooling of the hidden states: mean or last")->capture_default_str();
  app.add_option("--epochs", c->epochs, "Passes over the training data")->capture_default_str();
  app.add_option("--batch-size", c->batch_size, "Examples per step")->capture_default_str();
  app.add_option("--max-seq", c->max_seq, "Tokens per example (longer texts are cut; scoring uses windows)")
      ->capture_default_str();
  app.add_option("--lr", c->lr, "Peak learning rate of the body")->capture_default_str();
  app.add_option("--head-lr", c->head_lr, "Peak learning rate of the head")->capture_default_str();
  app.add_option("--weight-decay", c->weight_decay, "AdamW weight decay")->capture_default_str();
  app.add_option("--grad-clip", c->grad_clip, "Global gradient-norm clip (0: none)")->capture_default_str();
  app.add_option("--warmup-fraction", c->warmup_fraction, "Fraction of steps of linear warmup")->capture_default_str();
  app.add_option("--pos-weight", c->pos_weight, "Loss weight of positive labels")->capture_default_str();
  app.add_option("--val-fraction", c->val_fraction, "Validation share of train when there is no validation file")
      ->capture_default_str();
  app.add_option("--max-examples", c->max_examples, "Use at most this many training examples (0: all)")
      ->capture_default_str();
  app.add_option("--threshold", c->threshold, "Decision threshold for the reported metrics")->capture_default_str();
  app.add_option("--seed", c->seed, "Seed (init, shuffling, validation split)")->capture_default_str();
  app.add_option("--threads", c->threads, "Threads (0: all cores)")->capture_default_str();
  app.add_flag("--freeze-body", c->freeze_body, "Train the head only");
  app.add_flag("--no-progress", *no_progress, "No progress bar");
  app.callback([c, cats, no_progress] {
    if (!cats->empty()) {
      std::stringstream ss(*cats);
      for (std::string s; std::getline(ss, s, ',');)
        if (!s.empty()) c->categories.push_back(s);
    }
    c->progress = !*no_progress;
    auto res = shog::train_moderation_classifier(*c, [&](const shog::EpochReport& r) { print_epoch(r, c->epochs); });
    std::printf("\n%lld training, %lld validation examples; %.1f s\n", (long long)res.train_examples,
                (long long)res.val_examples, res.seconds);
    std::printf("temperatures:");
    for (size_t k = 0; k < res.categories.size(); ++k)
      std::printf(" %s=%.3f", res.categories[k].c_str(), res.temperature[k]);
    std::printf("\n\nvalidation, calibrated, threshold %.2f:\n%s", c->threshold, res.final_val.to_table().c_str());
    std::printf("saved %s\n", c->out.c_str());
  });
}

void setup_eval(CLI::App& app) {
  struct Args {
    std::string model, data, policy_file;
    bool no_classifier = false;
    float threshold = 0.5f;
    int64_t batch = 32, threads = 0;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  app.add_option("--model", a->model, "Classifier directory (from `moderator train`)");
  app.add_option("--policy-file", a->policy_file,
                 "Also apply this file's rules: score = max(rule hit, classifier), as a server does");
  app.add_flag("--no-classifier", a->no_classifier, "With --policy-file: rules alone");
  app.add_option("--data", a->data, "Labelled JSONL, or a directory (its moderation_test.jsonl)")->required();
  app.add_option("--threshold", a->threshold, "Decision threshold on the calibrated score")->capture_default_str();
  app.add_option("--batch-size", a->batch, "Examples per forward pass")->capture_default_str();
  app.add_option("--threads", a->threads, "Threads (0: all cores)")->capture_default_str();
  app.add_flag("--json", a->json, "Print the metrics as JSON");
  app.callback([a] {
    if (a->threads > 0) omp_set_num_threads(int(a->threads));
    std::string path = a->data;
    if (std::filesystem::is_directory(path)) {
      path = shog::find_moderation_splits(path).test;
      SHOG_CHECK(!path.empty(), shog::ErrorKind::io, a->data, "no moderation_test.jsonl in this directory");
    }
    SHOG_CHECK(!a->model.empty() || (!a->policy_file.empty() && a->no_classifier), shog::ErrorKind::invalid_argument,
               "--model", "required (unless --policy-file with --no-classifier)");
    std::shared_ptr<shog::ModerationClassifier> clf;
    if (!a->no_classifier) clf = shog::ModerationClassifier::load(a->model);
    shog::ClassifierEval ev;
    if (a->policy_file.empty()) {
      auto data = shog::read_moderation_data(path, clf->categories());
      ev = shog::evaluate_classifier(*clf, data, a->threshold, a->batch);
    } else {
      // Every built-in category the data labels, scored by the chosen detectors.
      auto policies = std::make_shared<const shog::PolicySet>(shog::PolicySet::load(a->policy_file));
      auto data = shog::read_moderation_data(path, clf ? clf->categories() : std::vector<std::string>{});
      shog::Moderator mod(policies, clf);
      const auto t0 = std::chrono::steady_clock::now();
      ev = shog::evaluate_probabilities(shog::moderator_scores(mod, data, true, clf != nullptr), data, a->threshold);
      ev.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    if (a->json) {
      std::printf("%s\n", ev.to_json().dump(2).c_str());
      return;
    }
    const std::string what = a->policy_file.empty() ? a->model
                             : clf                  ? a->model + " + rules of " + a->policy_file
                                                    : "rules of " + a->policy_file;
    std::printf("%s on %s, threshold %.2f, %.1f s (%.0f examples/s)\n\n", what.c_str(), path.c_str(),
                a->threshold, ev.seconds, ev.seconds > 0 ? double(ev.examples) / ev.seconds : 0.0);
    std::printf("%s", ev.to_table().c_str());
  });
}

void setup(CLI::App& app) {
  app.require_subcommand(1);
  setup_train(*app.add_subcommand("train", "Train the moderation classifier on labelled JSONL"));
  setup_eval(*app.add_subcommand("eval", "Precision/recall/F1 per category and over-flagging on labelled JSONL"));
}

shog::cli::Registration reg{"moderator", "The learned moderation classifier: train, eval", setup};

}  // namespace
