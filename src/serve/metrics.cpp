#include "serve/metrics.h"

#include <prometheus/text_serializer.h>

namespace shog::serve {

namespace {
const prometheus::Histogram::BucketBoundaries kTtftBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                               0.5,   1,    2.5,   5,    10,  30};
const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {0.05, 0.1, 0.25, 0.5, 1,  2.5,
                                                                  5,    10,  20,   40,  80, 160};
}  // namespace

Metrics::Metrics(const std::vector<std::string>& deployments)
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("shog_requests_total")
                    .Help("HTTP requests by deployment, endpoint and status")
                    .Register(*registry_)),
      prompt_tokens_(prometheus::BuildCounter()
                         .Name("shog_prompt_tokens_total")
                         .Help("Prompt tokens of admitted requests")
                         .Register(*registry_)),
      completion_tokens_(prometheus::BuildCounter()
                             .Name("shog_completion_tokens_total")
                             .Help("Generated tokens")
                             .Register(*registry_)),
      cancelled_(prometheus::BuildCounter()
                     .Name("shog_cancelled_requests_total")
                     .Help("Requests cancelled because the client went away")
                     .Register(*registry_)),
      moderation_(prometheus::BuildCounter()
                      .Name("shog_moderation_actions_total")
                      .Help("Moderation interventions by stage (input, output) and action")
                      .Register(*registry_)),
      ttft_(prometheus::BuildHistogram()
                .Name("shog_time_to_first_token_seconds")
                .Help("From the request's arrival to its first generated text")
                .Register(*registry_)),
      latency_(prometheus::BuildHistogram()
                   .Name("shog_request_latency_seconds")
                   .Help("From the request's arrival to its last byte")
                   .Register(*registry_)),
      queue_(prometheus::BuildGauge()
                 .Name("shog_queue_depth")
                 .Help("Requests waiting for a slot in the running batch")
                 .Register(*registry_)),
      batch_(prometheus::BuildGauge()
                 .Name("shog_batch_size")
                 .Help("Sequences of this deployment in the running batch")
                 .Register(*registry_)),
      kv_used_(prometheus::BuildGauge()
                   .Name("shog_kv_blocks_used")
                   .Help("KV cache blocks held by sequences, per model")
                   .Register(*registry_)),
      kv_total_(prometheus::BuildGauge()
                    .Name("shog_kv_blocks_total")
                    .Help("KV cache blocks in the pool, per model")
                    .Register(*registry_)),
      steps_(prometheus::BuildGauge()
                 .Name("shog_engine_steps")
                 .Help("Model calls made by the engine, per model")
                 .Register(*registry_)) {
  for (auto& d : deployments) {
    prometheus::Labels l{{"deployment", d}};
    per_[d] = {&prompt_tokens_.Add(l), &completion_tokens_.Add(l), &cancelled_.Add(l), &ttft_.Add(l, kTtftBuckets),
               &latency_.Add(l, kLatencyBuckets), &queue_.Add(l), &batch_.Add(l)};
  }
}

Metrics::PerDeployment* Metrics::find(const std::string& d) {
  auto it = per_.find(d);
  return it == per_.end() ? nullptr : &it->second;
}

void Metrics::request(const std::string& deployment, const std::string& endpoint, int status) {
  requests_.Add({{"deployment", deployment.empty() ? "none" : deployment},
                 {"endpoint", endpoint},
                 {"status", std::to_string(status)}})
      .Increment();
}

void Metrics::tokens(const std::string& deployment, int64_t prompt, int64_t completion) {
  if (auto* p = find(deployment)) {
    p->prompt_tokens->Increment(double(prompt));
    p->completion_tokens->Increment(double(completion));
  }
}

void Metrics::time_to_first_token(const std::string& deployment, double s) {
  if (auto* p = find(deployment)) p->ttft->Observe(s);
}

void Metrics::latency(const std::string& deployment, double s) {
  if (auto* p = find(deployment)) p->latency->Observe(s);
}

void Metrics::cancelled(const std::string& deployment) {
  if (auto* p = find(deployment)) p->cancelled->Increment();
}

void Metrics::moderation(const std::string& deployment, const std::string& stage, const std::string& action) {
  moderation_.Add({{"deployment", deployment}, {"stage", stage}, {"action", action}}).Increment();
}

std::string Metrics::render(const std::vector<const ModelScheduler*>& schedulers) {
  for (auto* s : schedulers) {
    SchedulerSnapshot snap = s->snapshot();
    prometheus::Labels l{{"model", s->name()}};
    kv_used_.Add(l).Set(double(snap.kv_blocks_used));
    kv_total_.Add(l).Set(double(snap.kv_blocks_total));
    steps_.Add(l).Set(double(snap.steps));
    for (auto& [name, d] : snap.deployments)
      if (auto* p = find(name)) {
        p->queue->Set(double(d.queued));
        p->batch->Set(double(d.running));
      }
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace shog::serve
