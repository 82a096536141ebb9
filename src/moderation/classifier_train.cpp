#include "moderation/classifier_train.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <set>

#include "core/error.h"
#include "core/file_io.h"
#include "core/progress.h"
#include "core/random.h"
#include "data/jsonl.h"
#include "model/model_io.h"
#include "moderation/categories.h"
#include "train/adamw_optimizer.h"
#include "train/lr_schedule.h"

namespace shog {
namespace fs = std::filesystem;

bool ModerationExample::benign() const {
  return std::all_of(labels.begin(), labels.end(), [](uint8_t v) { return v == 0; });
}

ModerationDataset read_moderation_data(const std::string& path, const std::vector<std::string>& categories) {
  struct Raw {
    std::string text, direction, kind;
    std::map<std::string, uint8_t> labels;
  };
  std::vector<Raw> raw;
  std::set<std::string> seen;
  for_each_jsonl(path, [&](const nlohmann::json& j, const std::string& where) {
    Raw r;
    SHOG_CHECK(j.contains("text") && j["text"].is_string(), ErrorKind::bad_input, where, "\"text\" must be a string");
    r.text = j["text"].get<std::string>();
    SHOG_CHECK(j.contains("labels") && j["labels"].is_object(), ErrorKind::bad_input, where,
               "\"labels\" must be an object {{category: 0|1}}");
    for (auto& [k, v] : j["labels"].items()) {
      int64_t x = -1;
      if (v.is_boolean()) x = v.get<bool>();
      else if (v.is_number_integer()) x = v.get<int64_t>();
      else if (v.is_number_float() && (v.get<double>() == 0.0 || v.get<double>() == 1.0)) x = int64_t(v.get<double>());
      SHOG_CHECK(x == 0 || x == 1, ErrorKind::bad_input, where, "label \"{}\" must be 0 or 1, got {}", k, v.dump());
      r.labels[k] = uint8_t(x);
      seen.insert(k);
    }
    for (const char* f : {"direction", "kind"})
      if (j.contains(f)) {
        SHOG_CHECK(j[f].is_string(), ErrorKind::bad_input, where, "\"{}\" must be a string", f);
        (f[0] == 'd' ? r.direction : r.kind) = j[f].get<std::string>();
      }
    raw.push_back(std::move(r));
  });
  SHOG_CHECK(!raw.empty(), ErrorKind::bad_input, path, "no examples");
  ModerationDataset d;
  d.categories = categories;
  if (d.categories.empty()) {
    for (const auto& c : builtin_categories())
      if (seen.erase(c.id)) d.categories.push_back(c.id);
    d.categories.insert(d.categories.end(), seen.begin(), seen.end());
  }
  SHOG_CHECK(!d.categories.empty(), ErrorKind::bad_input, path, "no label keys in any example");
  for (auto& r : raw) {
    ModerationExample e{std::move(r.text), std::move(r.direction), std::move(r.kind), {}};
    for (const auto& c : d.categories) {
      auto it = r.labels.find(c);
      e.labels.push_back(it == r.labels.end() ? 0 : it->second);
    }
    d.examples.push_back(std::move(e));
  }
  return d;
}

ModerationSplits find_moderation_splits(const std::string& p) {
  ModerationSplits s;
  if (!fs::is_directory(p)) {
    SHOG_CHECK(file_exists(p), ErrorKind::io, p, "no such file or directory");
    s.train = p;
    return s;
  }
  auto pick = [&](std::initializer_list<const char*> names) -> std::string {
    for (const char* n : names) {
      const std::string f = p + "/moderation_" + n + ".jsonl";
      if (file_exists(f)) return f;
    }
    return "";
  };
  s.train = pick({"train"});
  s.val = pick({"val", "validation", "valid", "dev"});
  s.test = pick({"test"});
  SHOG_CHECK(!s.train.empty(), ErrorKind::io, p, "no moderation_train.jsonl in this directory");
  return s;
}

double CategoryMetrics::precision() const { return tp + fp ? double(tp) / double(tp + fp) : 0.0; }
double CategoryMetrics::recall() const { return tp + fn ? double(tp) / double(tp + fn) : 0.0; }
double CategoryMetrics::f1() const {
  const double p = precision(), r = recall();
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

nlohmann::json ClassifierEval::to_json() const {
  nlohmann::json cats = nlohmann::json::array();
  for (const auto& m : per_category)
    cats.push_back({{"category", m.category}, {"tp", m.tp}, {"fp", m.fp}, {"fn", m.fn}, {"tn", m.tn},
                    {"support", m.support()}, {"precision", m.precision()}, {"recall", m.recall()}, {"f1", m.f1()}});
  nlohmann::json kinds = nlohmann::json::object();
  for (const auto& [k, v] : benign_by_kind)
    kinds[k] = {{"examples", v.first}, {"flagged", v.second}, {"rate", v.first ? double(v.second) / v.first : 0.0}};
  return {{"examples", examples},
          {"per_category", cats},
          {"micro", {{"precision", micro_precision}, {"recall", micro_recall}, {"f1", micro_f1}}},
          {"macro_f1", macro_f1},
          {"nll", nll},
          {"overflagging", {{"benign", benign}, {"flagged", benign_flagged}, {"rate", overflag_rate()}, {"by_kind", kinds}}},
          {"seconds", seconds}};
}

std::string ClassifierEval::to_table() const {
  std::string s = fmt::format("{:<24} {:>7} {:>6} {:>6} {:>6} {:>9} {:>7} {:>6}\n", "category", "support", "tp", "fp",
                              "fn", "precision", "recall", "f1");
  for (const auto& m : per_category)
    s += fmt::format("{:<24} {:>7} {:>6} {:>6} {:>6} {:>9.3f} {:>7.3f} {:>6.3f}\n", m.category, m.support(), m.tp, m.fp,
                     m.fn, m.precision(), m.recall(), m.f1());
  s += fmt::format("{:<24} {:>7} {:>6} {:>6} {:>6} {:>9.3f} {:>7.3f} {:>6.3f}\n", "micro", "", "", "", "",
                   micro_precision, micro_recall, micro_f1);
  s += fmt::format("macro F1 {:.3f}   NLL {:.4f}   {} examples\n", macro_f1, nll, examples);
  s += fmt::format("over-flagging: {} of {} benign examples flagged ({:.1f}%)\n", benign_flagged, benign,
                   100 * overflag_rate());
  for (const auto& [k, v] : benign_by_kind)
    s += fmt::format("  kind {:<20} {} of {} ({:.1f}%)\n", k, v.second, v.first,
                     v.first ? 100.0 * double(v.second) / double(v.first) : 0.0);
  return s;
}

namespace {

std::vector<std::vector<int32_t>> encode_all(const ModerationClassifier& clf, const ModerationDataset& d) {
  std::vector<std::vector<int32_t>> out(d.examples.size());
#pragma omp parallel for schedule(dynamic, 16)
  for (size_t i = 0; i < d.examples.size(); ++i) {
    out[i] = clf.encode(d.examples[i].text);
    if (int64_t(out[i].size()) > clf.meta().max_seq) out[i].resize(size_t(clf.meta().max_seq));
  }
  return out;
}

std::vector<float> logits_of(ModerationClassifier& clf, const std::vector<std::vector<int32_t>>& ids, int64_t batch) {
  const size_t K = clf.categories().size();
  std::vector<float> all(ids.size() * K), logits;
  for (size_t i = 0; i < ids.size(); i += size_t(batch)) {
    std::vector<std::vector<int32_t>> b(ids.begin() + i, ids.begin() + std::min(ids.size(), i + size_t(batch)));
    clf.forward(b, logits);
    std::copy(logits.begin(), logits.end(), all.begin() + i * K);
  }
  return all;
}

double bce(float p, uint8_t y) {
  const double q = std::clamp(double(p), 1e-7, 1 - 1e-7);
  return y ? -std::log(q) : -std::log(1 - q);
}

// NLL of sigmoid(z / T) for one category.
double nll_at(const std::vector<float>& z, const ModerationDataset& d, size_t k, double T) {
  const size_t K = d.categories.size();
  double s = 0;
  for (size_t i = 0; i < d.examples.size(); ++i) s += bce(float(1 / (1 + std::exp(-z[i * K + k] / T))), d.examples[i].labels[k]);
  return s / double(d.examples.size());
}

void check_same_categories(const ModerationClassifier& clf, const ModerationDataset& d) {
  SHOG_CHECK(clf.categories() == d.categories, ErrorKind::invalid_argument, "moderation data",
             "the data's categories ({}) are not the classifier's ({})", fmt::join(d.categories, ","),
             fmt::join(clf.categories(), ","));
}

}  // namespace

std::vector<float> classifier_logits(ModerationClassifier& clf, const ModerationDataset& data, int64_t batch) {
  check_same_categories(clf, data);
  return logits_of(clf, encode_all(clf, data), batch);
}

ClassifierEval evaluate_probabilities(const std::vector<float>& probs, const ModerationDataset& d, float threshold) {
  const size_t K = d.categories.size(), N = d.examples.size();
  SHOG_ASSERT(probs.size() == N * K);
  ClassifierEval ev;
  ev.examples = int64_t(N);
  ev.per_category.resize(K);
  for (size_t k = 0; k < K; ++k) ev.per_category[k].category = d.categories[k];
  double nll = 0;
  for (size_t i = 0; i < N; ++i) {
    const auto& e = d.examples[i];
    bool any = false;
    for (size_t k = 0; k < K; ++k) {
      const bool pred = probs[i * K + k] >= threshold, truth = e.labels[k] != 0;
      auto& m = ev.per_category[k];
      (pred ? (truth ? m.tp : m.fp) : (truth ? m.fn : m.tn))++;
      any |= pred;
      nll += bce(probs[i * K + k], e.labels[k]);
    }
    if (e.benign()) {
      ++ev.benign;
      ev.benign_flagged += any;
      if (!e.kind.empty()) {
        auto& bk = ev.benign_by_kind[e.kind];
        ++bk.first;
        bk.second += any;
      }
    }
  }
  ev.nll = N ? nll / double(N * K) : 0;
  int64_t tp = 0, fp = 0, fn = 0, with_support = 0;
  double f1_sum = 0;
  for (const auto& m : ev.per_category) {
    tp += m.tp, fp += m.fp, fn += m.fn;
    if (m.support() > 0) ++with_support, f1_sum += m.f1();
  }
  ev.micro_precision = tp + fp ? double(tp) / double(tp + fp) : 0;
  ev.micro_recall = tp + fn ? double(tp) / double(tp + fn) : 0;
  ev.micro_f1 = ev.micro_precision + ev.micro_recall > 0
                    ? 2 * ev.micro_precision * ev.micro_recall / (ev.micro_precision + ev.micro_recall)
                    : 0;
  ev.macro_f1 = with_support ? f1_sum / double(with_support) : 0;
  return ev;
}

ClassifierEval evaluate_classifier(ModerationClassifier& clf, const ModerationDataset& data, float threshold,
                                   int64_t batch) {
  const auto t0 = std::chrono::steady_clock::now();
  ClassifierEval ev = evaluate_probabilities(clf.calibrate(classifier_logits(clf, data, batch)), data, threshold);
  ev.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return ev;
}

std::vector<float> fit_temperatures(const std::vector<float>& logits, const ModerationDataset& d) {
  const size_t K = d.categories.size();
  std::vector<float> temps(K, 1.0f);
  constexpr int kGrid = 161;
  // T in [0.22, 12]: wide enough for any over- or under-confident head, and
  // bounded so that separable validation data (whose NLL falls as T -> 0)
  // cannot turn every score into exactly 0 or 1.
  constexpr double kLo = -1.5, kHi = 2.5, kStep = (kHi - kLo) / (kGrid - 1);
  for (size_t k = 0; k < K; ++k) {
    int best = 0;
    double best_nll = INFINITY;
    for (int g = 0; g < kGrid; ++g) {
      const double v = nll_at(logits, d, k, std::exp(kLo + g * kStep));
      if (v < best_nll) best_nll = v, best = g;
    }
    // Golden-section search on log T within the best grid cell's neighbours.
    double a = kLo + std::max(0, best - 1) * kStep, b = kLo + std::min(kGrid - 1, best + 1) * kStep;
    const double r = (std::sqrt(5.0) - 1) / 2;
    for (int it = 0; it < 40; ++it) {
      const double c = b - r * (b - a), e = a + r * (b - a);
      if (nll_at(logits, d, k, std::exp(c)) < nll_at(logits, d, k, std::exp(e))) b = e;
      else a = c;
    }
    temps[k] = float(std::exp((a + b) / 2));
  }
  return temps;
}

void ClassifierTrainConfig::validate() const {
  SHOG_CHECK(!data.empty(), ErrorKind::invalid_argument, "--data", "required");
  SHOG_CHECK(!out.empty(), ErrorKind::invalid_argument, "--out", "required");
  SHOG_CHECK(epochs >= 1, ErrorKind::invalid_argument, "--epochs", "must be >= 1");
  SHOG_CHECK(batch_size >= 1, ErrorKind::invalid_argument, "--batch-size", "must be >= 1");
  SHOG_CHECK(max_seq >= 2, ErrorKind::invalid_argument, "--max-seq", "must be >= 2");
  SHOG_CHECK(lr >= 0 && head_lr > 0, ErrorKind::invalid_argument, "--lr/--head-lr", "must be positive");
  SHOG_CHECK(val_fraction > 0 && val_fraction < 1, ErrorKind::invalid_argument, "--val-fraction", "must be in (0, 1)");
  SHOG_CHECK(pos_weight > 0, ErrorKind::invalid_argument, "--pos-weight", "must be > 0");
  SHOG_CHECK(threshold > 0 && threshold <= 1, ErrorKind::invalid_argument, "--threshold", "must be in (0, 1]");
  parse_pooling(pooling, "--pooling");
}

namespace {

// The body and its tokenizer: a model directory (a checkpoint; a run
// directory resolves through `latest`) or a preset with a given tokenizer.
struct Base {
  std::unique_ptr<Transformer> body;
  std::unique_ptr<Tokenizer> tok;
};

Base load_base(const ClassifierTrainConfig& cfg) {
  Base b;
  std::string dir = cfg.base, tok_path = cfg.tokenizer;
  if (fs::is_directory(dir)) {
    if (file_exists(dir + "/latest") && !file_exists(dir + "/config.json")) {
      std::string step = read_file(dir + "/latest");
      step.erase(step.find_last_not_of(" \n\r\t") + 1);
      dir += "/" + step;
    }
    ModelConfig mc = load_model_config(dir);
    mc.max_seq = std::max(mc.max_seq, cfg.max_seq);  // RoPE extends; the classifier's windows must fit
    b.body = std::make_unique<Transformer>(mc);
    load_model_weights(dir, *b.body);
    if (tok_path.empty()) {
      for (const std::string& c : {dir + "/tokenizer.json", dir + "/../tokenizer.json"})
        if (file_exists(c)) {
          tok_path = c;
          break;
        }
      SHOG_CHECK(!tok_path.empty(), ErrorKind::io, dir, "no tokenizer.json here or in the parent; pass --tokenizer");
    }
    b.tok = std::make_unique<Tokenizer>(Tokenizer::load(tok_path));
  } else {
    SHOG_CHECK(!tok_path.empty(), ErrorKind::invalid_argument, "--tokenizer",
               "required when --base is a preset ('{}' is not a directory)", dir);
    ModelConfig mc = model_preset(dir);
    b.tok = std::make_unique<Tokenizer>(Tokenizer::load(tok_path));
    mc.vocab = b.tok->vocab_size();
    mc.max_seq = std::max(mc.max_seq, cfg.max_seq);
    b.body = std::make_unique<Transformer>(mc);
    b.body->init_weights(uint64_t(cfg.seed));
  }
  b.body->sync_compute_weights();
  return b;
}

}  // namespace

ClassifierTrainResult train_moderation_classifier(const ClassifierTrainConfig& cfg,
                                                  const std::function<void(const EpochReport&)>& on_epoch) {
  cfg.validate();
  const auto t_start = std::chrono::steady_clock::now();
  if (cfg.threads > 0) omp_set_num_threads(int(cfg.threads));

  // Data: the training split, and validation from the directory, a file, or
  // a seeded random fraction of the training examples.
  const ModerationSplits splits = find_moderation_splits(cfg.data);
  ModerationDataset train = read_moderation_data(splits.train, cfg.categories);
  const std::string val_path = cfg.val_data.empty() ? splits.val : cfg.val_data;
  ModerationDataset val;
  Rng rng(uint64_t(cfg.seed));
  if (!val_path.empty()) {
    val = read_moderation_data(val_path, train.categories);
  } else {
    std::vector<ModerationExample>& ex = train.examples;
    for (size_t i = ex.size(); i > 1; --i) std::swap(ex[i - 1], ex[rng.next_u64() % i]);
    const size_t n_val = std::max<size_t>(1, size_t(double(ex.size()) * cfg.val_fraction));
    SHOG_CHECK(ex.size() > n_val, ErrorKind::bad_input, splits.train, "too few examples ({}) to split off validation",
               ex.size());
    val.categories = train.categories;
    val.examples.assign(std::make_move_iterator(ex.end() - int64_t(n_val)), std::make_move_iterator(ex.end()));
    ex.resize(ex.size() - n_val);
  }
  if (cfg.max_examples > 0 && int64_t(train.examples.size()) > cfg.max_examples)
    train.examples.resize(size_t(cfg.max_examples));
  for (const auto& c : train.categories)
    SHOG_CHECK(valid_category_id(c), ErrorKind::bad_input, splits.train, "label '{}' is not a valid category id", c);

  Base base = load_base(cfg);
  const int64_t K = int64_t(train.categories.size()), C = base.body->config().d_model;
  LinearHead head(C, K);
  head.init(uint64_t(cfg.seed) + 1, 0.02f);
  ClassifierMeta meta;
  meta.categories = train.categories;
  meta.pooling = parse_pooling(cfg.pooling, "--pooling");
  meta.max_seq = cfg.max_seq;
  meta.temperature.assign(size_t(K), 1.0f);
  ModerationClassifier clf(std::move(base.body), std::move(head), *base.tok, meta);

  const auto train_ids = encode_all(clf, train);
  const auto val_ids = encode_all(clf, val);
  const int64_t N = int64_t(train_ids.size()), B = cfg.batch_size;
  const int64_t steps_per_epoch = (N + B - 1) / B, total = steps_per_epoch * cfg.epochs;
  LrSchedule sched;
  sched.kind = LrScheduleKind::cosine;
  sched.lr = 1.0;  // a multiplier on lr and head_lr
  sched.total_steps = total;
  sched.warmup_steps = int64_t(double(total) * cfg.warmup_fraction);
  sched.min_lr_ratio = 0.1;
  ops::AdamWHyper hyper{float(cfg.lr), 0.9f, 0.999f, 1e-8f, float(cfg.weight_decay)};
  AdamWOptimizer body_opt(clf.body().table(), hyper);
  AdamWOptimizer head_opt(clf.head().table(), hyper);

  ClassifierTrainResult res;
  res.categories = train.categories;
  res.train_examples = N;
  res.val_examples = int64_t(val.examples.size());
  std::vector<size_t> order(static_cast<size_t>(N));
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<float> logits, dlogits;
  int64_t step = 0;
  for (int64_t epoch = 1; epoch <= cfg.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.next_u64() % i]);
    std::optional<ProgressBar> bar;
    if (cfg.progress) bar.emplace(fmt::format("epoch {}/{}", epoch, cfg.epochs), uint64_t(steps_per_epoch), "batches");
    double loss_sum = 0;
    int64_t loss_n = 0;
    for (int64_t s = 0; s < steps_per_epoch; ++s, ++step) {
      std::vector<std::vector<int32_t>> batch;
      std::vector<const ModerationExample*> ex;
      for (int64_t i = s * B; i < std::min(N, (s + 1) * B); ++i) {
        batch.push_back(train_ids[order[size_t(i)]]);
        ex.push_back(&train.examples[order[size_t(i)]]);
      }
      const int64_t nb = int64_t(batch.size());
      clf.body().zero_grad();
      clf.head().zero_grad();
      clf.forward(batch, logits);
      // Loss: sum over categories of the batch-mean (weighted) BCE with logits.
      dlogits.assign(logits.size(), 0.0f);
      double loss = 0;
      for (int64_t b = 0; b < nb; ++b)
        for (int64_t k = 0; k < K; ++k) {
          const float z = logits[size_t(b * K + k)];
          const float y = ex[size_t(b)]->labels[size_t(k)];
          const float w = y > 0 ? float(cfg.pos_weight) : 1.0f;
          const float p = 1.0f / (1.0f + std::exp(-z));
          // log(1 + e^-|z|) + max(z, 0) - y z: the stable form of BCE with logits.
          loss += w * (std::log1p(std::exp(-std::fabs(z))) + std::max(z, 0.0f) - y * z);
          dlogits[size_t(b * K + k)] = w * (p - y) / float(nb);
        }
      loss /= double(nb);
      SHOG_CHECK(std::isfinite(loss), ErrorKind::numeric, fmt::format("moderator train step {}", step + 1),
                 "loss is {}", loss);
      clf.backward(dlogits, !cfg.freeze_body);
      const double f = sched.at(step);
      if (!cfg.freeze_body)
        body_opt.step(clf.body().params(), clf.body().grads(), cfg.lr * f, float(cfg.grad_clip),
                      clf.body().params16());
      head_opt.step(clf.head().params(), clf.head().grads(), cfg.head_lr * f, float(cfg.grad_clip));
      loss_sum += loss;
      ++loss_n;
      if (bar) bar->update(uint64_t(s + 1));
    }
    if (bar) bar->finish();
    EpochReport r;
    r.epoch = epoch;
    r.steps = step;
    r.train_loss = loss_sum / double(std::max<int64_t>(1, loss_n));
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.examples_per_second = r.seconds > 0 ? double(N) / r.seconds : 0;
    r.val = evaluate_probabilities(clf.calibrate(logits_of(clf, val_ids, 32)), val, cfg.threshold);
    res.epochs.push_back(r);
    if (on_epoch) on_epoch(r);
  }

  // Calibration on validation, then the final (calibrated) validation report.
  const std::vector<float> val_logits = logits_of(clf, val_ids, 32);
  clf.meta().temperature = fit_temperatures(val_logits, val);
  res.temperature = clf.meta().temperature;
  res.final_val = evaluate_probabilities(clf.calibrate(val_logits), val, cfg.threshold);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  clf.meta().info = {{"base", cfg.base},
                     {"data", cfg.data},
                     {"train_examples", N},
                     {"val_examples", res.val_examples},
                     {"epochs", cfg.epochs},
                     {"batch_size", cfg.batch_size},
                     {"lr", cfg.lr},
                     {"head_lr", cfg.head_lr},
                     {"freeze_body", cfg.freeze_body},
                     {"pos_weight", cfg.pos_weight},
                     {"seed", cfg.seed},
                     {"seconds", res.seconds},
                     {"validation", res.final_val.to_json()}};
  clf.save(cfg.out);
  return res;
}

}  // namespace shog
