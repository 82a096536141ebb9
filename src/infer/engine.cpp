#include "infer/engine.h"

#include <algorithm>
#include <limits>

#include <omp.h>

#include "core/error.h"

namespace shog {

using Clock = std::chrono::steady_clock;

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::none: return "none";
    case FinishReason::stop_token: return "stop_token";
    case FinishReason::stop_string: return "stop_string";
    case FinishReason::length: return "length";
    case FinishReason::cancelled: return "cancelled";
    case FinishReason::error: return "error";
  }
  return "?";
}

struct Engine::Sequence {
  GenerationRequest req;
  GenerationResult result;
  std::vector<int32_t> context;  // prompt + generated: what the penalties count
  int64_t prompt_len = 0;
  int64_t fed = 0;               // tokens of context whose K/V are cached
  KvSeqId kv = -1;
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<TokenTextStream> text;
  bool cancel_requested = false;
  bool callback_refused = false;  // the callback returned false: do not call it again
  bool done = false;
  Clock::time_point admitted;
};

Engine::Engine(Transformer& model, const Tokenizer* tok, EngineOptions opt) : model_(model), tok_(tok), opt_(opt) {
  const ModelConfig& c = model_.config();
  SHOG_CHECK(opt_.max_batch >= 1 && opt_.prefill_chunk >= 1, ErrorKind::invalid_argument, "engine",
             "max_batch {} and prefill_chunk {} must be >= 1", opt_.max_batch, opt_.prefill_chunk);
  if (tok_)
    SHOG_CHECK(tok_->vocab_size() <= c.vocab, ErrorKind::invalid_argument, "engine",
               "the tokenizer has {} tokens but the model's vocabulary is {}", tok_->vocab_size(), c.vocab);
  model_.prepare_cached();
  int64_t blocks = opt_.kv_blocks;
  if (blocks <= 0) blocks = opt_.max_batch * ((c.max_seq + opt_.block_size - 1) / opt_.block_size);
  kv_ = std::make_unique<KvBlockPool>(c, blocks, opt_.block_size, opt_.kv_dtype);
}

Engine::~Engine() = default;

int64_t Engine::worst_case_blocks(const Sequence& s) const {
  // The last sampled token is never fed back, hence the - 1.
  const int64_t tokens = std::min(s.prompt_len + int64_t(s.req.params.max_new_tokens) - 1, model_.config().max_seq);
  return kv_->blocks_for_tokens(std::max(tokens, s.prompt_len));
}

RequestId Engine::add(GenerationRequest req) {
  const RequestId id = next_id_++;
  const std::string where = fmt::format("request {}", id);
  req.params.validate(where);
  const ModelConfig& c = model_.config();
  SHOG_CHECK(tok_ || req.params.stop_strings.empty(), ErrorKind::invalid_argument, where,
             "stop strings need a tokenizer (the engine was made without one)");
  SHOG_CHECK(!req.prompt.empty(), ErrorKind::invalid_argument, where, "the prompt is empty (it needs at least one token)");
  for (int32_t t : req.prompt)
    SHOG_CHECK(t >= 0 && t < c.vocab, ErrorKind::invalid_argument, where,
               "prompt token id {} is outside the model's vocabulary [0, {})", t, c.vocab);
  auto s = std::make_unique<Sequence>();
  s->result.id = id;
  const int64_t P = int64_t(req.prompt.size()), max_new = req.params.max_new_tokens;
  if (req.overflow == PromptOverflow::truncate_left && P + max_new > c.max_seq) {
    const int64_t keep = std::max<int64_t>(1, c.max_seq - max_new);
    if (keep < P) {
      s->result.prompt_truncated = P - keep;
      req.prompt.erase(req.prompt.begin(), req.prompt.begin() + (P - keep));
    }
  }
  SHOG_CHECK(int64_t(req.prompt.size()) <= c.max_seq, ErrorKind::invalid_argument, where,
             "the prompt has {} tokens but the model's context is {} (max_seq); shorten it or allow truncation", P,
             c.max_seq);
  s->req = std::move(req);
  s->prompt_len = int64_t(s->req.prompt.size());
  s->context = s->req.prompt;
  s->result.prompt = s->req.prompt;
  const int64_t need = worst_case_blocks(*s);
  SHOG_CHECK(need <= kv_->num_blocks(), ErrorKind::invalid_argument, where,
             "needs {} KV cache blocks of {} tokens but the cache has {}", need, kv_->block_size(), kv_->num_blocks());
  if (max_new == 0) {  // nothing to generate: done without running the model
    s->result.finish = FinishReason::length;
    results_.emplace(id, std::move(s->result));
    return id;
  }
  waiting_.push_back(std::move(s));
  return id;
}

void Engine::cancel(RequestId id) {
  for (auto& s : waiting_)
    if (s->result.id == id) s->cancel_requested = true;
  for (auto& s : running_)
    if (s->result.id == id) s->cancel_requested = true;
}

void Engine::emit(Sequence& s, int32_t token, float logprob, const std::vector<TokenLogprob>* top,
                  std::string_view text, FinishReason why) {
  s.result.text.append(text);
  if (!s.req.on_event || s.callback_refused) return;
  if (!s.req.on_event(StreamEvent{s.result.id, token, logprob, top, text, why}) && why == FinishReason::none)
    s.callback_refused = true;
}

void Engine::finish(Sequence& s, FinishReason why, std::string error) {
  if (s.done) return;
  s.done = true;
  s.result.finish = why;
  s.result.error = std::move(error);
  if (s.kv >= 0) {
    kv_->free_sequence(s.kv);
    s.kv = -1;
  }
  s.result.seconds = std::chrono::duration<double>(Clock::now() - s.admitted).count();
}

void Engine::admit() {
  // Blocks that running sequences may still claim on the way to their worst case.
  int64_t promised = 0;
  for (auto& s : running_) promised += worst_case_blocks(*s) - int64_t(kv_->block_table(s->kv).size());
  while (!waiting_.empty() && int64_t(running_.size()) < opt_.max_batch) {
    Sequence& s = *waiting_.front();
    const int64_t need = worst_case_blocks(s);
    if (kv_->free_blocks() - promised < need) break;  // first come, first served: no overtaking
    promised += need;
    s.kv = kv_->create_sequence();
    s.sampler = std::make_unique<Sampler>(s.req.params);
    s.text = std::make_unique<TokenTextStream>(tok_, s.req.params.stop_strings);
    s.admitted = Clock::now();
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
}

Engine::Draw Engine::draw(Sequence& s, float* logits) {
  const int64_t V = model_.config().vocab;
  // Ids the tokenizer cannot decode (a vocabulary padded for GEMM shapes) are never sampled.
  if (tok_)
    std::fill(logits + tok_->vocab_size(), logits + V, -std::numeric_limits<float>::infinity());
  Draw d;
  try {
    d.token = s.sampler->sample(logits, V, s.context);
  } catch (const std::exception& e) {  // nothing may leave the parallel region this runs in
    d.error = e.what();
  }
  return d;
}

void Engine::on_sampled(Sequence& s, Draw& d) {
  if (!d.error.empty()) {
    // One request's failure (e.g. NaN logits) must not take down the others.
    finish(s, FinishReason::error, std::move(d.error));
    emit(s, -1, 0.0f, nullptr, {}, FinishReason::error);
    return;
  }
  SampledToken& st = d.token;
  if (s.result.tokens.empty())
    s.result.seconds_to_first_token = std::chrono::duration<double>(Clock::now() - s.admitted).count();
  s.context.push_back(st.token);
  stats_.generated_tokens++;
  s.result.tokens.push_back({st.token, st.logprob, std::move(st.top)});
  const auto* top = &s.result.tokens.back().top;
  const SamplingParams& p = s.req.params;
  const int64_t generated = int64_t(s.result.tokens.size());

  if (p.is_stop_token(st.token)) {
    std::string rest(s.text->finish());
    finish(s, FinishReason::stop_token);
    emit(s, st.token, st.logprob, top, rest, FinishReason::stop_token);
    return;
  }
  std::string piece(s.text->push(st.token));
  if (s.text->stopped()) {
    finish(s, FinishReason::stop_string);
    emit(s, st.token, st.logprob, top, piece, FinishReason::stop_string);
    return;
  }
  // The new token would be fed at position context.size() - 1.
  if (generated >= p.max_new_tokens || int64_t(s.context.size()) > model_.config().max_seq) {
    piece += s.text->finish();
    finish(s, FinishReason::length);
    emit(s, st.token, st.logprob, top, piece, FinishReason::length);
    return;
  }
  emit(s, st.token, st.logprob, top, piece, FinishReason::none);
  if (s.callback_refused) finish(s, FinishReason::cancelled);
}

bool Engine::step() {
  const auto t0 = Clock::now();
  auto cancelled = [](const Sequence& s) { return s.cancel_requested || (s.req.cancel && s.req.cancel->load()); };
  auto retire = [&](auto& list) {
    for (auto& s : list)
      if (s->done) results_.emplace(s->result.id, std::move(s->result));
    list.erase(std::remove_if(list.begin(), list.end(), [](auto& s) { return s->done; }), list.end());
  };
  for (auto& s : waiting_)
    if (cancelled(*s)) {
      finish(*s, FinishReason::cancelled);
      emit(*s, -1, 0.0f, nullptr, {}, FinishReason::cancelled);
    }
  for (auto& s : running_)
    if (cancelled(*s)) {
      std::string rest(s->text->finish());
      finish(*s, FinishReason::cancelled);
      emit(*s, -1, 0.0f, nullptr, rest, FinishReason::cancelled);
    }
  retire(waiting_);
  retire(running_);
  admit();

  // The batch: every decoding sequence's pending token, then prompt chunks
  // (oldest admitted first) up to the prefill budget.
  std::vector<Transformer::CachedTokens> batch;
  std::vector<Sequence*> owner;
  for (auto& s : running_)
    if (s->fed >= s->prompt_len) {
      batch.push_back({s->kv, {s->context.data() + s->fed, 1}, false, s->req.adapter});
      owner.push_back(s.get());
    }
  int64_t budget = opt_.prefill_chunk, prompt_tokens = 0;
  for (auto& s : running_) {
    if (s->fed >= s->prompt_len) continue;
    if (budget == 0) break;
    const int64_t n = std::min(s->prompt_len - s->fed, budget);
    batch.push_back({s->kv, {s->context.data() + s->fed, size_t(n)}, false, s->req.adapter});
    owner.push_back(s.get());
    budget -= n;
    prompt_tokens += n;
  }
  if (!batch.empty()) {
    const int64_t V = model_.config().vocab;
    logits_.resize(size_t(int64_t(batch.size()) * V));
    // The thread count is the stepping thread's own setting (a server's
    // scheduler thread sets it), read once here.
    if (!tuner_) tuner_.emplace(opt_.adapt_threads ? omp_get_max_threads() : 1);
    int64_t rows = 0;
    for (const auto& b : batch) rows += int64_t(b.tokens.size());
    const int threads = tuner_->pick(rows), threads_before = omp_get_max_threads();
    if (threads > 0) omp_set_num_threads(threads);
    const auto t_model = Clock::now();
    model_.forward_cached(*kv_, batch, logits_.data());
    if (threads > 0) {
      tuner_->record(rows, threads, std::chrono::duration<double>(Clock::now() - t_model).count());
      omp_set_num_threads(threads_before);
    }
    // Logits are used once everything known is cached: the prompt's end, or a
    // decode token. Each sequence draws from its own sampler and RNG, so the
    // draws run side by side (at 16 rows of a 50k vocabulary they are ~1 ms
    // of serial work a step otherwise); what they lead to (stop checks,
    // detokenising, the streaming callbacks) runs here, in batch order.
    ready_.clear();
    for (size_t i = 0; i < batch.size(); ++i) {
      Sequence& s = *owner[i];
      s.fed += int64_t(batch[i].tokens.size());
      if (s.fed == int64_t(s.context.size())) ready_.push_back(int64_t(i));
    }
    draws_.resize(ready_.size());
#pragma omp parallel for schedule(dynamic) if (ready_.size() >= 2 && threads_before > 1)
    for (size_t j = 0; j < ready_.size(); ++j)
      draws_[j] = draw(*owner[size_t(ready_[j])], logits_.data() + ready_[j] * V);
    for (size_t j = 0; j < ready_.size(); ++j) on_sampled(*owner[size_t(ready_[j])], draws_[j]);
    stats_.steps++;
    stats_.prompt_tokens += prompt_tokens;
  }
  retire(running_);
  stats_.seconds += std::chrono::duration<double>(Clock::now() - t0).count();
  return has_work();
}

void Engine::run_until_done() {
  while (step()) {
  }
}

bool Engine::is_running(RequestId id) const {
  for (auto& s : running_)
    if (s->result.id == id) return !s->done;
  return false;
}

GenerationResult Engine::take_result(RequestId id) {
  auto it = results_.find(id);
  SHOG_CHECK(it != results_.end(), ErrorKind::invalid_argument, "engine", "request {} has not finished", id);
  GenerationResult r = std::move(it->second);
  results_.erase(it);
  return r;
}

}  // namespace shog
