// What every config-driven command shares (pretrain, sft, reward, dpo, ...):
// --config FILE (TOML) plus one flag per config field; flags override the
// file's keys.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "train/config_fields.h"

namespace shog::cli {

// Registers --config and the fields' flags on `sub`. The returned function,
// called in the callback, loads the file (if given) and applies the flags;
// it returns the effective configuration as TOML text.
std::function<std::string()> bind_config(CLI::App& sub, std::shared_ptr<ConfigFields> fields);

}  // namespace shog::cli
