// What `generate` and `chat` share: every sampling option as a flag, and
// streaming generated text to the terminal.
#pragma once
#include <CLI/CLI.hpp>

#include "infer/engine.h"
#include "infer/sampler.h"

namespace shog::cli {

void add_sampling_flags(CLI::App& sub, SamplingParams& p);

// A stream callback that writes each piece of text to stdout as it arrives.
bool print_stream_event(const StreamEvent& e);

}  // namespace shog::cli
