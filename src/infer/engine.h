// The generation engine: many requests decoded together over one paged KV
// cache. Everything that generates text (generate, chat, RL rollouts, the
// server) drives it the same way:
//
//   Engine eng(model, &tokenizer, {});
//   RequestId id = eng.add({prompt_ids, params, PromptOverflow::error, on_event});
//   eng.run_until_done();               // or: while (eng.step()) { ...add more... }
//   GenerationResult r = eng.take_result(id);
//
// One step() is one model call (Transformer::forward_cached) over a batch that
// mixes every running sequence's next decode token with prompt chunks of
// newly admitted requests (chunked prefill: at most prefill_chunk prompt
// tokens per step, so a long prompt does not stall the others' decoding).
// Then each sequence that produced logits samples its next token with its own
// Sampler, streams it, and checks its stop conditions; a finished sequence's
// blocks go back to the pool before the next step, and waiting requests are
// admitted in arrival order as room appears. This is continuous batching: the
// server only calls add() between steps.
//
// Admission reserves, in effect, a request's worst case: a request is admitted
// only when the free blocks, minus what running sequences may still need to
// reach their own worst case, cover min(prompt + max_new_tokens, max_seq)
// tokens. So a running sequence never runs out of cache (no preemption is
// needed), at the price of admitting fewer long requests at once.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "infer/request.h"
#include "infer/sampler.h"
#include "infer/text_stream.h"
#include "infer/thread_tuner.h"
#include "model/kv_cache.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"

namespace shog {

struct EngineOptions {
  int64_t max_batch = 16;        // sequences decoding at once
  int64_t prefill_chunk = 512;   // prompt tokens per step (all prefilling sequences together)
  int64_t block_size = 16;       // KV cache block, tokens
  int64_t kv_blocks = 0;         // 0: enough for max_batch sequences of max_seq tokens
  DType kv_dtype = DType::f32;   // bf16 halves cache memory and its reads (~5e-3 relative on logits)
  bool adapt_threads = true;     // small decode steps pick 1 or all threads by their timings (thread_tuner.h)
};

struct EngineStats {
  int64_t steps = 0, prompt_tokens = 0, generated_tokens = 0;
  double seconds = 0;  // inside step()
};

class Engine {
 public:
  // The model and tokenizer must outlive the engine; tok may be null (no
  // text, no stop strings: ids only).
  Engine(Transformer& model, const Tokenizer* tok, EngineOptions opt = {});
  ~Engine();

  // Validates (params, prompt vs context, cache size) and queues the request;
  // throws shog::Error (invalid_argument) naming the problem. Never blocks.
  RequestId add(GenerationRequest req);
  // Cancels a waiting or running request at the next step.
  void cancel(RequestId id);

  // One model call; returns whether any request is still waiting or running.
  bool step();
  void run_until_done();

  bool has_work() const { return !waiting_.empty() || !running_.empty(); }
  int64_t num_waiting() const { return int64_t(waiting_.size()); }
  int64_t num_running() const { return int64_t(running_.size()); }
  bool finished(RequestId id) const { return results_.count(id) != 0; }
  // Admitted (holding cache blocks) and not finished; false while waiting.
  bool is_running(RequestId id) const;
  // The result of a finished request (removed from the engine).
  GenerationResult take_result(RequestId id);

  const KvBlockPool& kv() const { return *kv_; }
  const EngineStats& stats() const { return stats_; }
  const EngineOptions& options() const { return opt_; }
  Transformer& model() { return model_; }

 private:
  struct Sequence;
  int64_t worst_case_blocks(const Sequence& s) const;
  void admit();
  void finish(Sequence& s, FinishReason why, std::string error = {});
  // A sequence's next token from its logits (thread-safe across sequences),
  // then everything that follows from it (serial: callbacks, retirement).
  struct Draw {
    SampledToken token{};
    std::string error;  // the sampler's, e.g. NaN logits
  };
  Draw draw(Sequence& s, float* logits);
  void on_sampled(Sequence& s, Draw& d);
  void emit(Sequence& s, int32_t token, float logprob, const std::vector<TokenLogprob>* top, std::string_view text,
            FinishReason why);

  Transformer& model_;
  const Tokenizer* tok_;
  EngineOptions opt_;
  std::unique_ptr<KvBlockPool> kv_;
  std::deque<std::unique_ptr<Sequence>> waiting_;
  std::vector<std::unique_ptr<Sequence>> running_;
  std::map<RequestId, GenerationResult> results_;
  std::vector<float> logits_;
  std::vector<int64_t> ready_;  // this step's batch entries whose logits are sampled
  std::vector<Draw> draws_;     // and their draws
  std::optional<ThreadTuner> tuner_;  // made at the first step, on the stepping thread
  RequestId next_id_ = 0;
  EngineStats stats_;
};

}  // namespace shog
