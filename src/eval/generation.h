// The replies a model gives to the test prompts: each prompt rendered with
// the model's chat template plus the generation prompt (<|assistant|>),
// answered greedily by default (temperature 0: the model's single most
// likely reply, so an evaluation is repeatable) until the template's <|end|>
// (or <|eos|>) or max_new_tokens, all prompts queued on one Engine, which
// decodes up to max_batch of them together. A LoRA model's adapter rides on
// each request (GenerationRequest::adapter), so the base stays untouched.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "eval/eval_model.h"
#include "eval/test_set.h"
#include "infer/request.h"

namespace shog {

struct ReplyOptions {
  int64_t max_new_tokens = 128;
  int64_t max_batch = 32;        // sequences decoded together
  DType kv_dtype = DType::f32;
  // Sampling instead of greedy decoding (refusal_propensity.h): prompt i is
  // sampled with seed + i, so replies do not depend on the batching.
  float temperature = 0;
  uint64_t seed = 0;
};

struct ModelReply {
  std::string text;              // the reply, <|end|> excluded
  FinishReason finish = FinishReason::none;  // stop_token, or length when cut at max_new_tokens
  int64_t prompt_tokens = 0, new_tokens = 0;
};

struct GenerationStats {
  double seconds = 0;
  int64_t prompt_tokens = 0, generated_tokens = 0;
};

// One reply per prompt, in the prompts' order. Throws shog::Error
// (invalid_argument) naming the prompt's line when it leaves no room in the
// model's context, (numeric) when a reply fails (NaN logits).
std::vector<ModelReply> generate_replies(EvalModel& m, const std::vector<TestPrompt>& prompts,
                                         const ReplyOptions& opt, GenerationStats* stats = nullptr);

}  // namespace shog
