// `shoggoth serve`: the serving platform. Loads the models and deployments
// of a platform config, opens the API key database and serves the
// OpenAI-compatible API, /health, /metrics and the web chat page until
// SIGINT or SIGTERM (docs/api.md).
//
//   shoggoth keys create --db keys.sqlite --tier public --name alice
//   shoggoth serve --config configs/platform.toml --port 8080
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <thread>

#include "cli/command.h"
#include "core/error.h"
#include "moderation/policy_hook.h"
#include "serve/api_keys.h"
#include "serve/config.h"
#include "serve/http_server.h"
#include "serve/model_registry.h"

namespace {

struct ServeArgs {
  std::string config, host;
  int port = -1;
  bool access_log = false;
};

void run(const ServeArgs& a) {
  shog::serve::PlatformConfig cfg = shog::serve::PlatformConfig::load(a.config);
  if (!a.host.empty()) cfg.server.host = a.host;
  if (a.port >= 0) cfg.server.port = a.port;

  // Signals are taken by one thread (sigwait), so block them before any
  // other thread (engine, HTTP) starts and inherits the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server

  shog::serve::ApiKeyStore keys(cfg.server.keys_db);
  std::fprintf(stderr, "serve: loading %zu model(s)\n", cfg.models.size());
  shog::serve::ModelRegistry registry(cfg);
  // Without a [moderation] policy file there is no hook: only policy "none".
  std::unique_ptr<shog::PolicyModerationHook> hook;
  if (!cfg.moderation.policies.empty())
    hook = shog::PolicyModerationHook::open(cfg.moderation.policies, cfg.moderation.classifier,
                                            cfg.moderation.audit_db);
  shog::serve::HttpServer server(registry, keys, hook.get());
  server.set_access_log(a.access_log);
  const int port = server.bind();
  std::thread([&server, sigs] {
    int sig = 0;
    sigwait(&sigs, &sig);
    std::fprintf(stderr, "serve: signal %d, stopping\n", sig);
    server.stop();
  }).detach();
  std::printf("serve: listening on http://%s:%d (%zu deployments, keys in %s)\n", cfg.server.host.c_str(), port,
              registry.deployments().size(), cfg.server.keys_db.c_str());
  std::fflush(stdout);
  server.listen();
  std::fprintf(stderr, "serve: stopped\n");
}

void setup(CLI::App& sub) {
  auto a = std::make_shared<ServeArgs>();
  sub.add_option("--config,-c", a->config, "Platform config (TOML): models, adapters, deployments, server")->required();
  sub.add_option("--host", a->host, "Address to listen on (overrides server.host; default 127.0.0.1)");
  sub.add_option("--port", a->port, "Port (overrides server.port; 0: any free port, printed at start)");
  sub.add_flag("--access-log", a->access_log, "Log every request (method, path, status) to stderr");
  sub.callback([a] { run(*a); });
}

shog::cli::Registration reg{"serve", "Serve deployments over an OpenAI-compatible HTTP API", setup};

}  // namespace
