// The learned moderation classifier: a small transformer from our engine
// with a multi-label head. The body's final hidden states are pooled (mean
// over the text's tokens, or the last token), a LinearHead maps them to one
// logit per category, and each category's probability is
//
//     p_k = sigmoid(z_k / T_k)
//
// with T_k fitted on validation data by temperature scaling (Guo et al.
// 2017, one temperature per category), so that scores are calibrated and a
// policy's threshold means what it says.
//
// A classifier directory (`shoggoth moderator train --out DIR`):
//   config.json, model.safetensors   the body (HF Llama names)
//   head.safetensors                 score.weight [K, C], score.bias [K]
//   tokenizer.json                   the body's tokenizer
//   classifier.json                  categories, pooling, max_seq, temperatures,
//                                    validation metrics
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/linear_head.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"

namespace shog {

enum class Pooling : uint8_t { mean, last };
Pooling parse_pooling(const std::string& s, const std::string& where);
const char* pooling_name(Pooling p);

struct ClassifierMeta {
  std::vector<std::string> categories;  // one per head output
  Pooling pooling = Pooling::mean;
  int64_t max_seq = 128;                // tokens per window (<= the body's max_seq)
  std::vector<float> temperature;       // per category; 1 = uncalibrated
  nlohmann::json info = nlohmann::json::object();  // training settings and metrics, kept verbatim

  nlohmann::json to_json() const;
  static ClassifierMeta from_json(const nlohmann::json& j, const std::string& where);
};

class ModerationClassifier {
 public:
  ModerationClassifier(std::unique_ptr<Transformer> body, LinearHead head, Tokenizer tok, ClassifierMeta meta);

  // Throws shog::Error naming the file on a missing or inconsistent part.
  static std::unique_ptr<ModerationClassifier> load(const std::string& dir);
  void save(const std::string& dir) const;

  const ClassifierMeta& meta() const { return meta_; }
  ClassifierMeta& meta() { return meta_; }
  const std::vector<std::string>& categories() const { return meta_.categories; }
  Transformer& body() { return *body_; }
  LinearHead& head() { return head_; }
  const Tokenizer& tokenizer() const { return tok_; }

  // The text's tokens (with <|bos|> first when the tokenizer has one).
  std::vector<int32_t> encode(std::string_view text) const;

  // Training and batch evaluation (not thread-safe). Each sequence is cut to
  // max_seq tokens; logits [n, K] row-major, before temperature.
  void forward(const std::vector<std::vector<int32_t>>& seqs, std::vector<float>& logits);
  // After forward(): the head's gradients from dL/dlogits [n, K], and the
  // body's unless body_too is false.
  void backward(const std::vector<float>& dlogits, bool body_too);

  // Calibrated probabilities for one text: a long text is scored in windows
  // of max_seq tokens (half overlapping) and each category takes its maximum.
  // Thread-safe: calls are serialised (the body keeps activations).
  std::vector<float> score(std::string_view text);
  // Probabilities from raw logits [n, K].
  std::vector<float> calibrate(const std::vector<float>& logits) const;

 private:
  std::unique_ptr<Transformer> body_;
  LinearHead head_;
  Tokenizer tok_;
  ClassifierMeta meta_;
  std::mutex mu_;
  // The last forward's batch: shape, lengths, pooled states (mean pooling).
  int64_t B_ = 0, T_ = 0;
  std::vector<int64_t> lens_, rows_;
  std::vector<int32_t> tokens_;
  std::vector<float> pooled_, pooled_grad_;
};

}  // namespace shog
