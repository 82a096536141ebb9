#include "serve/scheduler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <omp.h>

#include "core/error.h"
#include "serve/api_error.h"

namespace shog::serve {

RequestChannel::RequestChannel(std::string deployment) : deployment_(std::move(deployment)) {}

bool RequestChannel::wait(Progress& p, std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  auto news = [&] { return !pieces_.empty() || tokens_ != p.tokens || done_ != p.done; };
  if (!cv_.wait_for(lk, timeout, news)) return false;
  p.pieces = std::move(pieces_);
  pieces_.clear();
  p.tokens = tokens_;
  p.done = done_;
  return true;
}

void RequestChannel::cancel() { cancel_->store(true); }

void RequestChannel::push(std::string_view text) {
  {
    std::lock_guard lk(mu_);
    if (!text.empty()) pieces_.emplace_back(text);  // a token that ends inside a character adds none
    tokens_++;
  }
  cv_.notify_all();
}

void RequestChannel::complete(GenerationResult r) {
  {
    std::lock_guard lk(mu_);
    if (done_) return;  // already failed
    tokens_ = int64_t(r.tokens.size());
    result_ = std::move(r);
    done_ = true;
  }
  cv_.notify_all();
}

void RequestChannel::fail(std::exception_ptr e) {
  {
    std::lock_guard lk(mu_);
    if (done_) return;
    error_ = e;
    result_.finish = FinishReason::error;
    done_ = true;
  }
  cv_.notify_all();
}

ModelScheduler::ModelScheduler(std::string name, Transformer& model, const Tokenizer* tok, EngineOptions opt,
                               int64_t max_queue, std::vector<std::string> deployments, int threads)
    : name_(std::move(name)), engine_(model, tok, opt), max_queue_(max_queue) {
  for (auto& d : deployments) snap_.deployments[d] = {};
  snap_.kv_blocks_total = engine_.kv().num_blocks();
  thread_ = std::thread([this, threads] {
    // The setting is per thread: it governs the parallel regions of this
    // engine's model calls only.
    if (threads > 0) omp_set_num_threads(threads);
    run();
  });
}

ModelScheduler::~ModelScheduler() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::shared_ptr<RequestChannel> ModelScheduler::submit(GenerationRequest req, const std::string& deployment,
                                                       int* retry_after_s) {
  auto ch = std::make_shared<RequestChannel>(deployment);
  req.cancel = ch->cancel_flag();
  req.on_event = [ch](const StreamEvent& e) {
    if (e.token >= 0) ch->push(e.text);
    return !ch->cancelled();
  };
  auto job = std::make_unique<Job>();
  job->req = std::move(req);
  job->channel = ch;
  {
    std::lock_guard lk(mu_);
    const int64_t queued = int64_t(pending_.size()) + engine_waiting_;
    if (stop_ || queued >= max_queue_) {
      // Time for the queue ahead to drain, batch by batch, at the recent pace.
      const double batches = std::ceil(double(queued + 1) / double(engine_.options().max_batch));
      if (retry_after_s) *retry_after_s = int(std::clamp(batches * avg_request_s_, 1.0, 120.0));
      return nullptr;
    }
    pending_.push_back(std::move(job));
  }
  cv_.notify_all();
  return ch;
}

SchedulerSnapshot ModelScheduler::snapshot() const {
  std::lock_guard lk(mu_);
  SchedulerSnapshot s = snap_;
  s.queued += int64_t(pending_.size());  // submitted since the last step
  for (auto& j : pending_) s.deployments[j->channel->deployment()].queued++;
  return s;
}

void ModelScheduler::refresh_snapshot() {
  SchedulerSnapshot& s = snap_;
  for (auto& [name, d] : s.deployments) d = {};
  s.queued = s.running = 0;
  for (auto& [id, job] : active_) {
    auto& d = s.deployments[job->channel->deployment()];
    if (engine_.is_running(id)) {
      d.running++, s.running++;
    } else if (!engine_.finished(id)) {
      d.queued++, s.queued++;
    }
  }
  s.kv_blocks_used = engine_.kv().used_blocks();
  s.kv_blocks_total = engine_.kv().num_blocks();
  const EngineStats& st = engine_.stats();
  s.steps = st.steps, s.prompt_tokens = st.prompt_tokens, s.generated_tokens = st.generated_tokens;
  s.step_seconds = st.seconds;
}

void ModelScheduler::run() {
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stop_ || !pending_.empty() || engine_busy_; });
    if (stop_) break;
    std::vector<std::unique_ptr<Job>> incoming;
    incoming.swap(pending_);
    lk.unlock();

    // New requests join between steps: this is all continuous batching needs.
    for (auto& j : incoming) {
      try {
        j->id = engine_.add(std::move(j->req));
        active_.emplace(j->id, std::move(j));
      } catch (...) {
        j->channel->fail(std::current_exception());
      }
    }
    {
      // What the engine queue now holds counts against max_queue at once,
      // not only after the step.
      std::lock_guard g(mu_);
      engine_waiting_ = engine_.num_waiting();
    }
    if (engine_.has_work()) {
      try {
        engine_.step();
      } catch (const std::exception& e) {
        // A failed model call: fail what was in it rather than the server.
        std::fprintf(stderr, "serve: model %s: step failed: %s\n", name_.c_str(), e.what());
        for (auto& [id, job] : active_) {
          job->channel->fail(std::current_exception());
          engine_.cancel(id);
        }
      }
    }
    for (auto it = active_.begin(); it != active_.end();) {
      if (!engine_.finished(it->first)) {
        ++it;
        continue;
      }
      GenerationResult r = engine_.take_result(it->first);
      if (r.finish != FinishReason::cancelled) avg_request_s_ = 0.9 * avg_request_s_ + 0.1 * r.seconds;
      if (r.finish == FinishReason::error)
        it->second->channel->fail(std::make_exception_ptr(Error(ErrorKind::numeric, "generation", r.error)));
      else
        it->second->channel->complete(std::move(r));
      it = active_.erase(it);
    }

    lk.lock();
    engine_waiting_ = engine_.num_waiting();
    engine_busy_ = engine_.has_work();
    refresh_snapshot();
  }
  // Shutting down: nobody will run what is left.
  auto gone = std::make_exception_ptr(
      HttpError(ApiError{503, "server_error", "shutting_down", "", "the server is shutting down"}));
  for (auto& j : pending_) j->channel->fail(gone);
  pending_.clear();
  for (auto& [id, job] : active_) job->channel->fail(gone);
  active_.clear();
}

}  // namespace shog::serve
