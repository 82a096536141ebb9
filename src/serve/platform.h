// The serving platform as one blocking call: load the models of a platform
// config, open the key store, the moderation hook and the audit log, listen,
// and serve until SIGINT or SIGTERM. `shoggoth serve` and the end of
// `shoggoth demo` both run it.
#pragma once
#include <functional>
#include <string>

#include "serve/config.h"

namespace shog::serve {

struct PlatformRunOptions {
  bool access_log = false;
  // Called once the socket is bound, with the port (useful with port 0).
  std::function<void(int port)> on_listening;
};

// Blocks SIGINT/SIGTERM in the calling thread (so a signal reaches the
// waiting thread only) and ignores SIGPIPE; returns after a signal has
// stopped the server.
void run_platform(const PlatformConfig& cfg, const PlatformRunOptions& opt = {});

}  // namespace shog::serve
