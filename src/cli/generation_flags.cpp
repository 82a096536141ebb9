#include "cli/generation_flags.h"

#include <cstdio>

namespace shog::cli {

void add_sampling_flags(CLI::App& sub, SamplingParams& p) {
  sub.add_option("--temperature", p.temperature, "Sampling temperature; 0 = greedy")->capture_default_str();
  sub.add_option("--top-k", p.top_k, "Keep the k most likely tokens (0 = off)")->capture_default_str();
  sub.add_option("--top-p", p.top_p, "Nucleus sampling: smallest set with this probability mass (1 = off)")
      ->capture_default_str();
  sub.add_option("--min-p", p.min_p, "Drop tokens below min-p x the top probability (0 = off)")->capture_default_str();
  sub.add_option("--repetition-penalty", p.repetition_penalty, "CTRL repetition penalty (1 = off)")
      ->capture_default_str();
  sub.add_option("--frequency-penalty", p.frequency_penalty, "OpenAI frequency penalty in [-2, 2]")
      ->capture_default_str();
  sub.add_option("--presence-penalty", p.presence_penalty, "OpenAI presence penalty in [-2, 2]")->capture_default_str();
  sub.add_option("--seed", p.seed, "Sampling seed (same seed, same output)")->capture_default_str();
  sub.add_option("--max-tokens", p.max_new_tokens, "Most new tokens to generate")->capture_default_str();
  sub.add_option("--stop", p.stop_strings, "Stop before this text (repeatable; may span tokens)");
}


bool print_stream_event(const StreamEvent& e) {
  std::fwrite(e.text.data(), 1, e.text.size(), stdout);
  std::fflush(stdout);
  return true;
}

}  // namespace shog::cli
