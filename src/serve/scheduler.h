// Continuous batching for one model: ONE engine thread drives shog::Engine
// (src/infer/engine.h) step after step, and HTTP threads hand it requests
// and read their progress through a RequestChannel.
//
//   HTTP thread                         engine thread
//   ch = sched.submit(req, "chat") ---> (pending) -> Engine::add between steps
//   ch->wait(progress, 50ms)       <--- on_event: text appended, waiter woken
//   ch->cancel() (client gone)     ---> the engine drops it at its next step
//                                       and its KV blocks return to the pool
//
// Requests join the running batch as soon as the engine admits them (as
// slots and cache blocks free up), prompts are prefilled in chunks inside
// the same steps as other sequences' decoding, and requests for different
// LoRA adapters of the model share a batch (GenerationRequest::adapter).
// Back-pressure: when max_queue requests already wait for a slot, submit()
// refuses and the edge answers 429 with Retry-After.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "infer/engine.h"

namespace shog::serve {

// One request's progress, written by the engine thread, read by one HTTP thread.
class RequestChannel {
 public:
  struct Progress {
    // Final text since the last wait() (moved out), a piece per token that
    // completed text, so that a stream can send one delta per token as the
    // OpenAI API does, however late its reader comes.
    std::vector<std::string> pieces;
    int64_t tokens = 0;       // tokens sampled so far (all of them)
    bool done = false;        // the result (or error) is in
  };
  // Waits until new text or the end arrives, or `timeout` passes; moves the
  // new pieces into p.pieces. Returns whether anything arrived.
  bool wait(Progress& p, std::chrono::milliseconds timeout);
  // Cancels the request (idempotent; no effect once it is done).
  void cancel();
  bool cancelled() const { return cancel_->load(); }

  // After done: the engine's result (usage, finish reason, timings) or the
  // error that kept the request from running.
  const GenerationResult& result() const { return result_; }
  std::exception_ptr error() const { return error_; }

  // Engine side.
  explicit RequestChannel(std::string deployment);
  const std::string& deployment() const { return deployment_; }
  std::shared_ptr<std::atomic<bool>> cancel_flag() const { return cancel_; }
  void push(std::string_view text);
  void complete(GenerationResult r);
  void fail(std::exception_ptr e);

 private:
  std::string deployment_;
  std::shared_ptr<std::atomic<bool>> cancel_ = std::make_shared<std::atomic<bool>>(false);
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> pieces_;
  int64_t tokens_ = 0;
  bool done_ = false;
  GenerationResult result_;
  std::exception_ptr error_;
};

struct SchedulerSnapshot {
  int64_t queued = 0;           // submitted, not yet admitted (in front of the engine or in it)
  int64_t running = 0;          // admitted sequences (the decode batch)
  int64_t kv_blocks_used = 0, kv_blocks_total = 0;
  int64_t steps = 0, prompt_tokens = 0, generated_tokens = 0;
  double step_seconds = 0;
  struct PerDeployment {
    int64_t queued = 0, running = 0;
  };
  std::map<std::string, PerDeployment> deployments;
};

class ModelScheduler {
 public:
  // `model` and `tok` must outlive the scheduler. `deployments` are the names
  // served by this model (their gauges start at zero). `threads` > 0 sets
  // the OpenMP threads of the engine thread (its model calls). Starts the
  // engine thread.
  ModelScheduler(std::string name, Transformer& model, const Tokenizer* tok, EngineOptions opt, int64_t max_queue,
                 std::vector<std::string> deployments, int threads = 0);
  // Stops the thread; requests still queued or running fail (503).
  ~ModelScheduler();
  ModelScheduler(const ModelScheduler&) = delete;
  ModelScheduler& operator=(const ModelScheduler&) = delete;

  // Queues a request (never blocks). Returns null when the queue is full,
  // with *retry_after_s set to a guess of when there will be room.
  // req.on_event and req.cancel are the scheduler's own.
  std::shared_ptr<RequestChannel> submit(GenerationRequest req, const std::string& deployment, int* retry_after_s);

  SchedulerSnapshot snapshot() const;
  const std::string& name() const { return name_; }
  const EngineOptions& options() const { return engine_.options(); }
  int64_t max_queue() const { return max_queue_; }

 private:
  struct Job {
    GenerationRequest req;
    std::shared_ptr<RequestChannel> channel;
    RequestId id = -1;
  };
  void run();
  void refresh_snapshot();  // engine thread, under mu_

  std::string name_;
  Engine engine_;
  int64_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Job>> pending_;   // submitted, not yet given to the engine
  std::map<RequestId, std::unique_ptr<Job>> active_;  // in the engine (engine thread only)
  int64_t engine_waiting_ = 0;                  // engine's queue, as of the last step
  bool engine_busy_ = false;
  bool stop_ = false;
  double avg_request_s_ = 1.0;                  // moving average, for Retry-After
  SchedulerSnapshot snap_;
  std::thread thread_;
};

}  // namespace shog::serve
