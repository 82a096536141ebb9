// shoggoth: one binary, one subcommand per file in src/cli/. This is the one
// place where errors become messages and exit codes.
#include <omp.h>

#include <algorithm>
#include <cstdio>

#include "cli/command.h"
#include "core/error.h"

namespace shog::cli {
std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}
}  // namespace shog::cli

int main(int argc, char** argv) {
  CLI::App app{"shoggoth: a native C++ LLM stack (pretrain, align, serve)", "shoggoth"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "shoggoth 0.1.0");
  auto& cmds = shog::cli::registry();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  for (auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    c.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const shog::Error& e) {
    std::fprintf(stderr, "shoggoth: %s: %s\n", shog::error_kind_name(e.kind()), e.what());
    return shog::exit_code_for(e.kind());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shoggoth: internal error: %s\n", e.what());
    return 70;
  }
  return 0;
}
