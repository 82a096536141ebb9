// What a caller hands the engine (a GenerationRequest), what it hears while
// the request runs (a StreamEvent per sampled token), and what it gets at the
// end (a GenerationResult).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "infer/sampler.h"

namespace shog {

class LoraAdapter;
using RequestId = int64_t;

enum class FinishReason : uint8_t {
  none,         // still running
  stop_token,   // sampled one of params.stop_tokens (not part of the text)
  stop_string,  // the text reached one of params.stop_strings (cut before it)
  length,       // max_new_tokens generated, or the model's context is full
  cancelled,    // the callback returned false, the cancel flag was set, or Engine::cancel
  error,        // this request failed (e.g. NaN logits); others go on
};
const char* finish_reason_name(FinishReason r);

// What to do with a prompt that does not leave room in the context
// (prompt + max_new_tokens > max_seq).
enum class PromptOverflow : uint8_t {
  error,          // a prompt longer than the context is an error (the default);
                  // a shorter one generates until the context is full
  truncate_left,  // keep the last max_seq - max_new_tokens prompt tokens (at
                  // least one), so the whole completion fits; drops the oldest text
};

struct StreamEvent {
  RequestId id;
  int32_t token;         // -1 on an event that carries no token (cancelled while waiting)
  float logprob;
  const std::vector<TokenLogprob>* top;  // alternatives (params.top_logprobs of them)
  std::string_view text; // text that became final with this token (may be empty)
  FinishReason finish;   // none unless this is the request's last event
};

struct GenerationRequest {
  std::vector<int32_t> prompt;  // token ids, at least one
  SamplingParams params;
  PromptOverflow overflow = PromptOverflow::error;
  // Called after every sampled token, from the thread running Engine::step.
  // Returning false cancels the request (its blocks are freed at once).
  std::function<bool(const StreamEvent&)> on_event;
  // Optional: set from any thread to cancel at the next step.
  std::shared_ptr<std::atomic<bool>> cancel;
  // Optional: a LoRA adapter of the engine's model, applied to this request's
  // rows only (requests for different adapters share one batch). Must
  // outlive the request.
  const LoraAdapter* adapter = nullptr;
};

struct GeneratedToken {
  int32_t token;
  float logprob;
  std::vector<TokenLogprob> top;
};

struct GenerationResult {
  RequestId id = -1;
  std::vector<int32_t> prompt;          // as run (after truncation)
  int64_t prompt_truncated = 0;         // tokens dropped from the front
  std::vector<GeneratedToken> tokens;   // every sampled token, a stop token included
  std::string text;                     // the completion's text (stop token/string excluded)
  FinishReason finish = FinishReason::none;
  std::string error;                    // when finish == error
  double seconds_to_first_token = 0;    // from admission to the first sampled token
  double seconds = 0;                   // from admission to the end
};

}  // namespace shog
