// An API request for a deployment -> what the engine runs: the prompt's
// token ids (the chat template with the deployment's system prompt first,
// or <|bos|> + the completion prompt) and the sampling parameters (the
// request's values over the deployment's defaults, within its limits).
//
// The deployment's context (max_context) bounds prompt + completion: a
// request that names a max_tokens that does not fit is refused with 400
// context_length_exceeded, one that does not name it gets what is left
// (up to the deployment's default).
#pragma once
#include <cstdint>
#include <vector>

#include "infer/sampler.h"
#include "serve/model_registry.h"
#include "serve/openai_protocol.h"

namespace shog::serve {

struct PreparedPrompt {
  std::vector<int32_t> ids;
  SamplingParams params;
};

// Throws HttpError / shog::Error (400) naming the parameter. default_seed is
// used when the request gives none (so that repeated requests differ).
PreparedPrompt prepare_prompt(const ApiRequest& r, const Deployment& d, const LoadedModel& m, uint64_t default_seed);

}  // namespace shog::serve
