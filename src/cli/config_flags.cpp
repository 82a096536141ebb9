#include "cli/config_flags.h"

namespace shog::cli {

std::function<std::string()> bind_config(CLI::App& sub, std::shared_ptr<ConfigFields> fields) {
  auto path = std::make_shared<std::string>();
  sub.add_option("--config,-c", *path, "run configuration (TOML); flags override its keys");
  fields->add_flags(sub);
  return [fields, path] {
    if (!path->empty()) fields->load_toml(*path);
    fields->apply_flags();
    return fields->to_toml();
  };
}

}  // namespace shog::cli
