#include "eval/generation.h"

#include <chrono>

#include "core/error.h"
#include "infer/engine.h"
#include "infer/inference_model.h"

namespace shog {

std::vector<ModelReply> generate_replies(EvalModel& m, const std::vector<TestPrompt>& prompts,
                                         const ReplyOptions& opt, GenerationStats* stats) {
  SHOG_CHECK(opt.max_new_tokens >= 1, ErrorKind::invalid_argument, "--max-tokens", "must be >= 1, got {}",
             opt.max_new_tokens);
  SHOG_CHECK(opt.max_batch >= 1, ErrorKind::invalid_argument, "--batch", "must be >= 1, got {}", opt.max_batch);
  SHOG_CHECK(opt.temperature >= 0, ErrorKind::invalid_argument, "temperature", "must be >= 0, got {}",
             opt.temperature);
  SamplingParams params;
  params.temperature = opt.temperature;
  params.max_new_tokens = int(opt.max_new_tokens);
  params.stop_tokens = default_stop_tokens(m.tokenizer());
  params.stop_tokens.push_back(m.chat().end_id());

  EngineOptions eo;
  eo.max_batch = opt.max_batch;
  eo.kv_dtype = opt.kv_dtype;
  Engine eng(m.model(), &m.tokenizer(), eo);
  const int64_t ctx = m.model().config().max_seq;
  std::vector<RequestId> ids;
  ids.reserve(prompts.size());
  const auto t0 = std::chrono::steady_clock::now();
  for (const TestPrompt& p : prompts) {
    GenerationRequest req;
    req.prompt = m.chat().render(p.prompt, /*add_generation_prompt=*/true).ids;
    SHOG_CHECK(int64_t(req.prompt.size()) < ctx, ErrorKind::invalid_argument, p.where,
               "model {}: the prompt takes {} tokens, leaving no room to reply in a context of {}", m.name(),
               req.prompt.size(), ctx);
    req.params = params;
    req.params.seed = opt.seed + ids.size();
    req.adapter = m.adapter();
    ids.push_back(eng.add(std::move(req)));
  }
  eng.run_until_done();

  std::vector<ModelReply> out;
  out.reserve(prompts.size());
  GenerationStats st;
  for (size_t i = 0; i < ids.size(); ++i) {
    GenerationResult r = eng.take_result(ids[i]);
    SHOG_CHECK(r.finish != FinishReason::error, ErrorKind::numeric, prompts[i].where, "model {}: generation failed: {}",
               m.name(), r.error);
    ModelReply rep;
    rep.text = std::move(r.text);
    rep.finish = r.finish;
    rep.prompt_tokens = int64_t(r.prompt.size());
    rep.new_tokens = int64_t(r.tokens.size());
    st.prompt_tokens += rep.prompt_tokens;
    st.generated_tokens += rep.new_tokens;
    out.push_back(std::move(rep));
  }
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (stats) *stats = st;
  return out;
}

}  // namespace shog
