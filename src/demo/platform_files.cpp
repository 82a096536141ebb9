#include "demo/platform_files.h"

#include <sys/stat.h>

#include <filesystem>

#include <fmt/format.h>

#include "core/file_io.h"
#include "serve/api_keys.h"
#include "serve/config.h"

namespace shog::demo {

PlatformFiles write_platform_files(const std::string& out_dir, const std::string& base_dir,
                                   const std::string& aligned_dir, const std::string& policies_file) {
  namespace fs = std::filesystem;
  auto rel = [&](const std::string& p) { return fs::relative(p, out_dir).generic_string(); };
  write_file_atomic(out_dir + "/moderation.toml", read_file(policies_file));
  const std::string toml = fmt::format(R"(# Written by `shoggoth demo`: serve it with
#   shoggoth serve --config {0}/platform.toml
# API keys: {0}/api_keys.txt. Format: docs/api.md ("Configuration").

[server]
host = "127.0.0.1"
port = 8080
keys_db = "keys.sqlite"

[moderation]
policies = "moderation.toml"
audit_db = "audit.sqlite"

[[model]]
name = "base"
path = "{1}"
max_batch = 32

[[model]]
name = "aligned"
path = "{2}"
base = "base"
max_batch = 32

[[deployment]]
name = "base"
model = "base"
description = "The raw pretrained model (the shoggoth), for vetted researchers"
tiers = ["research"]
max_tokens = 256
[deployment.defaults]
temperature = 0.8
max_tokens = 128

[[deployment]]
name = "assistant"
model = "aligned"
description = "The aligned assistant, lightly moderated"
moderation = "moderate"
tiers = ["public", "partner", "research"]
max_tokens = 200
max_context = 256
[deployment.defaults]
temperature = 0.7
top_p = 0.95
max_tokens = 96

[[deployment]]
name = "kids"
model = "aligned"
description = "For children: strict moderation, replies held back until checked"
moderation = "strict"
tiers = ["public", "partner"]
max_tokens = 128
max_context = 256
[deployment.defaults]
temperature = 0.6
max_tokens = 64
)",
                                       out_dir, rel(base_dir), rel(aligned_dir));
  PlatformFiles pf{out_dir + "/platform.toml", out_dir + "/api_keys.txt"};
  write_file_atomic(pf.config, toml);
  serve::PlatformConfig::load(pf.config);  // what serve will read must parse
  if (!file_exists(pf.keys)) {
    serve::ApiKeyStore store(out_dir + "/keys.sqlite");
    auto research = store.create("demo-research", "research", 0);
    auto pub = store.create("demo-public", "public", 0);
    write_file_atomic(pf.keys, fmt::format("# API keys of this demo's platform (shown once; the database keeps hashes)\n"
                                           "research {}\npublic {}\n",
                                           research.key, pub.key));
    ::chmod(pf.keys.c_str(), 0600);
  }
  return pf;
}

}  // namespace shog::demo
