// `shoggoth serve`: the serving platform. Loads the models and deployments
// of a platform config, opens the API key database and serves the
// OpenAI-compatible API, /health, /metrics and the web chat page until
// SIGINT or SIGTERM (docs/api.md).
//
//   shoggoth keys create --db keys.sqlite --tier public --name alice
//   shoggoth serve --config configs/platform.toml --port 8080
#include "cli/command.h"
#include "serve/config.h"
#include "serve/platform.h"

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
  shog::serve::PlatformRunOptions opt;
  opt.access_log = a.access_log;
  shog::serve::run_platform(cfg, opt);
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
