// What the demo leaves for serving: <out>/platform.toml (one base model in
// memory, three deployments over two models: the raw base for the research
// tier, the aligned assistant with moderate moderation, and a kids'
// deployment with strict moderation that holds replies back until checked),
// a copy of the moderation policies, and two API keys (research, public)
// in <out>/keys.sqlite whose secrets go to <out>/api_keys.txt (mode 0600).
// Keys are made once per run directory and kept on later runs.
#pragma once
#include <string>

namespace shog::demo {

struct PlatformFiles {
  std::string config, keys;
};

PlatformFiles write_platform_files(const std::string& out_dir, const std::string& base_dir,
                                   const std::string& aligned_dir, const std::string& policies_file);

}  // namespace shog::demo
