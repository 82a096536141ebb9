// The HTTP edge of `shoggoth serve` (cpp-httplib): routes, authentication,
// rate limits, moderation and the mapping of every failure to an
// OpenAI-shaped error (api_error.h). Endpoints (docs/api.md):
//
//   GET  /                      the web chat page
//   GET  /health                liveness and per-model queue / KV use (no key)
//   GET  /metrics               Prometheus text format (no key)
//   GET  /v1/models             deployments the key's tier may call
//   GET  /v1/models/{name}
//   POST /v1/completions        OpenAI completions, JSON or SSE stream
//   POST /v1/chat/completions   OpenAI chat completions, JSON or SSE stream
//   POST /v1/moderations        OpenAI moderations, by the moderation hook
//
// A generation request is validated, turned into token ids for its
// deployment, and handed to the deployment's model scheduler (one engine
// thread per model); the handler thread then streams what the engine
// produces, through the deployment's moderation filter, and cancels the
// request as soon as the client is gone.
#pragma once
#include <memory>
#include <string>

#include "serve/api_keys.h"
#include "serve/metrics.h"
#include "serve/model_registry.h"
#include "moderation/moderation_hook.h"

namespace shog::serve {

class HttpServer {
 public:
  // registry, keys and hook (may be null: no moderation) must outlive the
  // server. Starts one engine thread per model. Throws shog::Error
  // (invalid_argument) when a deployment names a moderation policy other
  // than "none" that the hook does not know (or there is no hook).
  HttpServer(ModelRegistry& registry, ApiKeyStore& keys, ModerationHook* hook);
  ~HttpServer();

  // Binds to the configured host and port (0: any free one); returns the
  // port. Throws shog::Error (io) if the address cannot be bound.
  int bind();
  // Serves until stop(); call after bind().
  void listen();
  // From any thread (a signal handler thread): stops listen().
  void stop();
  // Blocks until listen() is accepting connections.
  void wait_until_listening();

  Metrics& metrics();
  // Log each request (method, path, status, milliseconds) to stderr.
  void set_access_log(bool on);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shog::serve
