// Subcommand registration. Each src/cli/<name>.cpp defines one subcommand:
//
//   static shog::cli::Registration reg{"pretrain", "Pretrain a base model", setup};
//
// where setup(CLI::App& sub) adds the flags and sets sub.callback(...). The
// callback parses, calls the library, and reports; errors are thrown as
// shog::Error and turned into a message and exit code in main.cpp only.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace shog::cli {

struct Command {
  std::string name, description;
  std::function<void(CLI::App&)> setup;
};

std::vector<Command>& registry();

struct Registration {
  Registration(std::string name, std::string description, std::function<void(CLI::App&)> setup) {
    registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace shog::cli
