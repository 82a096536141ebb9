#include "serve/platform.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "moderation/policy_hook.h"
#include "serve/api_keys.h"
#include "serve/http_server.h"
#include "serve/model_registry.h"

namespace shog::serve {

void run_platform(const PlatformConfig& cfg, const PlatformRunOptions& opt) {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server

  ApiKeyStore keys(cfg.server.keys_db);
  std::fprintf(stderr, "serve: loading %zu model(s)\n", cfg.models.size());
  ModelRegistry registry(cfg);
  std::unique_ptr<PolicyModerationHook> hook;
  if (!cfg.moderation.policies.empty())
    hook = PolicyModerationHook::open(cfg.moderation.policies, cfg.moderation.classifier, cfg.moderation.audit_db);
  HttpServer server(registry, keys, hook.get());
  server.set_access_log(opt.access_log);
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
  if (opt.on_listening) opt.on_listening(port);
  server.listen();
  std::fprintf(stderr, "serve: stopped\n");
}

}  // namespace shog::serve
