// Server metrics in the Prometheus text format (prometheus-cpp), served at
// GET /metrics. Per deployment: requests by endpoint and status, prompt and
// completion tokens, queue depth, batch size (its sequences in the running
// batch), time to first token and latency histograms, cancellations and
// moderation actions. Per model (engine): KV blocks used and total, engine
// steps. Gauges are read from the schedulers at scrape time.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "serve/scheduler.h"

namespace shog::serve {

class Metrics {
 public:
  explicit Metrics(const std::vector<std::string>& deployments);

  // Deployment "" (unknown yet: a 401, a 404) is labelled "none".
  void request(const std::string& deployment, const std::string& endpoint, int status);
  void tokens(const std::string& deployment, int64_t prompt, int64_t completion);
  void time_to_first_token(const std::string& deployment, double seconds);
  void latency(const std::string& deployment, double seconds);
  void cancelled(const std::string& deployment);
  void moderation(const std::string& deployment, const std::string& stage, const std::string& action);

  // The exposition, with gauges refreshed from the schedulers.
  std::string render(const std::vector<const ModelScheduler*>& schedulers);

 private:
  struct PerDeployment {
    prometheus::Counter *prompt_tokens, *completion_tokens, *cancelled;
    prometheus::Histogram *ttft, *latency;
    prometheus::Gauge *queue, *batch;
  };
  PerDeployment* find(const std::string& deployment);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& prompt_tokens_;
  prometheus::Family<prometheus::Counter>& completion_tokens_;
  prometheus::Family<prometheus::Counter>& cancelled_;
  prometheus::Family<prometheus::Counter>& moderation_;
  prometheus::Family<prometheus::Histogram>& ttft_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Gauge>& queue_;
  prometheus::Family<prometheus::Gauge>& batch_;
  prometheus::Family<prometheus::Gauge>& kv_used_;
  prometheus::Family<prometheus::Gauge>& kv_total_;
  prometheus::Family<prometheus::Gauge>& steps_;
  std::map<std::string, PerDeployment> per_;  // fixed after construction: lookups need no lock
};

}  // namespace shog::serve
