#include "moderation/classifier.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/file_io.h"
#include "model/model_io.h"

namespace shog {

Pooling parse_pooling(const std::string& s, const std::string& where) {
  if (s == "mean") return Pooling::mean;
  if (s == "last") return Pooling::last;
  throw Error(ErrorKind::invalid_argument, where, fmt::format("pooling must be \"mean\" or \"last\", got '{}'", s));
}

const char* pooling_name(Pooling p) { return p == Pooling::mean ? "mean" : "last"; }

nlohmann::json ClassifierMeta::to_json() const {
  return {{"format", "shoggoth-moderation-classifier"},
          {"version", 1},
          {"categories", categories},
          {"pooling", pooling_name(pooling)},
          {"max_seq", max_seq},
          {"temperature", temperature},
          {"info", info}};
}

ClassifierMeta ClassifierMeta::from_json(const nlohmann::json& j, const std::string& where) {
  ClassifierMeta m;
  auto field = [&](const char* k) -> const nlohmann::json& {
    SHOG_CHECK(j.is_object() && j.contains(k), ErrorKind::bad_input, where + ": key " + k, "missing");
    return j.at(k);
  };
  try {
    SHOG_CHECK(field("format") == "shoggoth-moderation-classifier", ErrorKind::bad_input, where + ": key format",
               "not a moderation classifier");
    m.categories = field("categories").get<std::vector<std::string>>();
    m.pooling = parse_pooling(field("pooling").get<std::string>(), where + ": key pooling");
    m.max_seq = field("max_seq").get<int64_t>();
    m.temperature = field("temperature").get<std::vector<float>>();
    if (j.contains("info")) m.info = j.at("info");
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::bad_input, where, fmt::format("malformed: {}", e.what()));
  }
  SHOG_CHECK(!m.categories.empty(), ErrorKind::bad_input, where + ": key categories", "empty");
  SHOG_CHECK(m.temperature.size() == m.categories.size(), ErrorKind::bad_input, where + ": key temperature",
             "{} temperatures for {} categories", m.temperature.size(), m.categories.size());
  for (float t : m.temperature)
    SHOG_CHECK(std::isfinite(t) && t > 0, ErrorKind::bad_input, where + ": key temperature", "{} is not > 0", t);
  SHOG_CHECK(m.max_seq >= 2, ErrorKind::bad_input, where + ": key max_seq", "must be >= 2");
  return m;
}

ModerationClassifier::ModerationClassifier(std::unique_ptr<Transformer> body, LinearHead head, Tokenizer tok,
                                           ClassifierMeta meta)
    : body_(std::move(body)), head_(std::move(head)), tok_(std::move(tok)), meta_(std::move(meta)) {
  const auto& cfg = body_->config();
  SHOG_CHECK(head_.d_model() == cfg.d_model && head_.n_out() == int64_t(meta_.categories.size()),
             ErrorKind::invalid_argument, "moderation classifier",
             "head [{}, {}] does not fit a {}-wide body with {} categories", head_.n_out(), head_.d_model(), cfg.d_model,
             meta_.categories.size());
  SHOG_CHECK(tok_.vocab_size() <= cfg.vocab, ErrorKind::invalid_argument, "moderation classifier",
             "the tokenizer has {} tokens but the body's vocabulary is {}", tok_.vocab_size(), cfg.vocab);
  if (meta_.temperature.empty()) meta_.temperature.assign(meta_.categories.size(), 1.0f);
  meta_.max_seq = std::min(meta_.max_seq, cfg.max_seq);
}

std::unique_ptr<ModerationClassifier> ModerationClassifier::load(const std::string& dir) {
  const std::string meta_path = dir + "/classifier.json";
  SHOG_CHECK(file_exists(meta_path), ErrorKind::io, meta_path,
             "not a moderation classifier directory (train one with `shoggoth moderator train`)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(meta_path));
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(ErrorKind::bad_input, meta_path, fmt::format("not JSON: {}", e.what()));
  }
  ClassifierMeta meta = ClassifierMeta::from_json(j, meta_path);
  auto body = std::make_unique<Transformer>(load_model_config(dir));
  load_model_weights(dir, *body);
  body->sync_compute_weights();
  LinearHead head = LinearHead::load(dir + "/head.safetensors");
  SHOG_CHECK(head.n_out() == int64_t(meta.categories.size()), ErrorKind::bad_input, dir + "/head.safetensors",
             "{} outputs but classifier.json names {} categories", head.n_out(), meta.categories.size());
  Tokenizer tok = Tokenizer::load(dir + "/tokenizer.json");
  return std::make_unique<ModerationClassifier>(std::move(body), std::move(head), std::move(tok), std::move(meta));
}

void ModerationClassifier::save(const std::string& dir) const {
  make_dirs(dir);
  save_model_weights(dir, *body_);
  head_.save(dir + "/head.safetensors");
  tok_.save(dir + "/tokenizer.json");
  write_file_atomic(dir + "/classifier.json", meta_.to_json().dump(2) + "\n");
}

std::vector<int32_t> ModerationClassifier::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  if (auto bos = tok_.special_id("<|bos|>")) ids.push_back(*bos);
  auto t = tok_.encode(text);
  ids.insert(ids.end(), t.begin(), t.end());
  if (ids.empty()) ids.push_back(0);
  return ids;
}

void ModerationClassifier::forward(const std::vector<std::vector<int32_t>>& seqs, std::vector<float>& logits) {
  const int64_t B = int64_t(seqs.size()), C = body_->config().d_model, K = head_.n_out();
  SHOG_ASSERT(B > 0);
  lens_.assign(size_t(B), 0);
  int64_t longest = 1;
  for (int64_t b = 0; b < B; ++b) {
    lens_[size_t(b)] = std::clamp<int64_t>(int64_t(seqs[size_t(b)].size()), 1, meta_.max_seq);
    longest = std::max(longest, lens_[size_t(b)]);
  }
  // Few distinct shapes (powers of two): the body reallocates its activations
  // and oneDNN builds new primitives whenever (B, T) changes.
  int64_t T = 8;
  while (T < longest) T *= 2;
  T = std::min(T, meta_.max_seq);
  B_ = B, T_ = T;
  // Right padding: attention is causal, so padding never reaches a real token.
  tokens_.assign(size_t(B * T), 0);
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = seqs[size_t(b)];
    for (int64_t t = 0; t < lens_[size_t(b)] && t < int64_t(s.size()); ++t) tokens_[size_t(b * T + t)] = s[size_t(t)];
  }
  body_->forward(tokens_.data(), B, T);
  const float* h = body_->hidden();
  logits.assign(size_t(B * K), 0.0f);
  rows_.resize(size_t(B));
  if (meta_.pooling == Pooling::last) {
    for (int64_t b = 0; b < B; ++b) rows_[size_t(b)] = b * T + lens_[size_t(b)] - 1;
    head_.forward(h, rows_, logits.data());
    return;
  }
  pooled_.assign(size_t(B * C), 0.0f);
  for (int64_t b = 0; b < B; ++b) {
    float* p = pooled_.data() + b * C;
    const int64_t n = lens_[size_t(b)];
    for (int64_t t = 0; t < n; ++t) {
      const float* x = h + (b * T + t) * C;
      for (int64_t c = 0; c < C; ++c) p[c] += x[c];
    }
    for (int64_t c = 0; c < C; ++c) p[c] /= float(n);
    rows_[size_t(b)] = b;
  }
  head_.forward(pooled_.data(), rows_, logits.data());
}

void ModerationClassifier::backward(const std::vector<float>& dlogits, bool body_too) {
  const int64_t B = B_, T = T_, C = body_->config().d_model, K = head_.n_out();
  SHOG_ASSERT(int64_t(dlogits.size()) == B * K);
  float* hg = body_->hidden_grad();
  if (meta_.pooling == Pooling::last) {
    head_.backward(body_->hidden(), rows_, dlogits.data(), hg);
  } else {
    pooled_grad_.assign(size_t(B * C), 0.0f);
    head_.backward(pooled_.data(), rows_, dlogits.data(), pooled_grad_.data());
    for (int64_t b = 0; b < B; ++b) {
      const int64_t n = lens_[size_t(b)];
      const float* g = pooled_grad_.data() + b * C;
      for (int64_t t = 0; t < n; ++t) {
        float* x = hg + (b * T + t) * C;
        for (int64_t c = 0; c < C; ++c) x[c] += g[c] / float(n);
      }
    }
  }
  if (body_too) body_->backward();
}

std::vector<float> ModerationClassifier::calibrate(const std::vector<float>& logits) const {
  const size_t K = meta_.categories.size();
  std::vector<float> p(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) p[i] = 1.0f / (1.0f + std::exp(-logits[i] / meta_.temperature[i % K]));
  return p;
}

std::vector<float> ModerationClassifier::score(std::string_view text) {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t K = meta_.categories.size();
  const std::vector<int32_t> ids = encode(text);
  const int64_t W = meta_.max_seq, n = int64_t(ids.size());
  std::vector<std::vector<int32_t>> windows;
  if (n <= W) {
    windows.push_back(ids);
  } else {
    // Windows after the first start again with <|bos|> (when there is one),
    // as every training example did.
    const auto bos = tok_.special_id("<|bos|>");
    const int64_t body = bos ? W - 1 : W, first = bos ? 1 : 0, stride = std::max<int64_t>(1, body / 2);
    for (int64_t s = first;; s += stride) {
      const int64_t b = std::min(s, n - body);
      std::vector<int32_t> w;
      if (bos) w.push_back(*bos);
      w.insert(w.end(), ids.begin() + b, ids.begin() + b + body);
      windows.push_back(std::move(w));
      if (b + body >= n) break;
    }
  }
  std::vector<float> best(K, 0.0f), logits;
  constexpr size_t kBatch = 16;
  for (size_t i = 0; i < windows.size(); i += kBatch) {
    std::vector<std::vector<int32_t>> batch(windows.begin() + i, windows.begin() + std::min(windows.size(), i + kBatch));
    forward(batch, logits);
    const auto p = calibrate(logits);
    for (size_t r = 0; r < batch.size(); ++r)
      for (size_t k = 0; k < K; ++k) best[k] = std::max(best[k], p[r * K + k]);
  }
  return best;
}

}  // namespace shog
