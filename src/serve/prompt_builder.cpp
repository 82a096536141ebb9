#include "serve/prompt_builder.h"

#include "core/error.h"
#include "serve/api_error.h"

namespace shog::serve {

PreparedPrompt prepare_prompt(const ApiRequest& r, const Deployment& d, const LoadedModel& m, uint64_t default_seed) {
  const DeploymentSpec& spec = *d.spec;
  PreparedPrompt out;
  SamplingParams& p = out.params;
  p = spec.defaults;
  if (r.temperature) p.temperature = *r.temperature;
  if (r.top_p) p.top_p = *r.top_p;
  if (r.top_k) p.top_k = int(*r.top_k);
  if (r.min_p) p.min_p = *r.min_p;
  if (r.repetition_penalty) p.repetition_penalty = *r.repetition_penalty;
  if (r.frequency_penalty) p.frequency_penalty = *r.frequency_penalty;
  if (r.presence_penalty) p.presence_penalty = *r.presence_penalty;
  if (r.stop) p.stop_strings = *r.stop;
  p.seed = r.seed ? *r.seed : default_seed;
  p.stop_tokens = r.ignore_eos ? std::vector<int32_t>{} : m.eos;

  const char* prompt_param = r.chat ? "messages" : "prompt";
  if (r.chat) {
    if (!m.chat)
      throw_http(400, "invalid_request_error", "", fmt::format("deployment {} has no chat template (its tokenizer lacks "
                                                               "the chat markers); use /v1/completions", spec.name),
                 "model");
    std::vector<ChatMessage> msgs;
    if (!spec.system_prompt.empty()) msgs.push_back({ChatRole::system, spec.system_prompt});
    msgs.insert(msgs.end(), r.messages.begin(), r.messages.end());
    out.ids = m.chat->render(msgs, true).ids;
    if (!r.ignore_eos) p.stop_tokens.push_back(m.chat->end_id());  // a reply ends with <|end|>
  } else if (r.prompt_is_ids) {
    const int32_t vocab = m.tokenizer->vocab_size();
    for (size_t i = 0; i < r.prompt_ids.size(); ++i)
      SHOG_CHECK(r.prompt_ids[i] < vocab, ErrorKind::invalid_argument, "prompt",
                 "prompt[{}] = {} is not a token id of this model (vocabulary {})", i, r.prompt_ids[i], vocab);
    out.ids = r.prompt_ids;
  } else {
    // As `shoggoth generate`: pretraining documents start with <|bos|>, so prompts do too.
    if (m.bos) out.ids.push_back(*m.bos);
    auto body = m.tokenizer->encode(r.prompt);
    out.ids.insert(out.ids.end(), body.begin(), body.end());
    if (out.ids.empty()) throw_http(400, "invalid_request_error", "", "the prompt is empty", "prompt");
  }

  const int64_t n = int64_t(out.ids.size()), ctx = d.max_context;
  if (n >= ctx)
    throw_http(400, "invalid_request_error", "context_length_exceeded",
               fmt::format("the prompt has {} tokens but {}'s context is {} tokens (prompt and completion together)", n,
                           spec.name, ctx),
               prompt_param);
  if (r.max_tokens) {
    if (spec.max_tokens > 0 && *r.max_tokens > spec.max_tokens)
      throw_http(400, "invalid_request_error", "", fmt::format("max_tokens is {} but {} allows at most {}",
                                                               *r.max_tokens, spec.name, spec.max_tokens),
                 "max_tokens");
    if (n + *r.max_tokens > ctx)
      throw_http(400, "invalid_request_error", "context_length_exceeded",
                 fmt::format("the prompt has {} tokens and max_tokens is {}, but {}'s context is {} tokens", n,
                             *r.max_tokens, spec.name, ctx),
                 "max_tokens");
    p.max_new_tokens = int(*r.max_tokens);
  } else {
    p.max_new_tokens = int(std::min<int64_t>(p.max_new_tokens, ctx - n));
  }
  p.validate("request");
  return out;
}

}  // namespace shog::serve
