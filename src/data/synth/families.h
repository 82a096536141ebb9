// The three kinds of prompt in the synthetic world, each drawn from split
// s's part of its pools (world.h, split.h).
#pragma once
#include "data/synth/world.h"

namespace shog::synth {

WorldItem make_helpful(Rng& rng, Split s);  // helpful.cpp
WorldItem make_harmful(Rng& rng, Split s);  // harmful.cpp
WorldItem make_benign(Rng& rng, Split s);   // benign.cpp

// Every request of the world, whatever its split, for the knowledge text
// (knowledge.h) and the knowledge probe (eval/knowledge_probe.h): benign ones
// with their answer, harmful ones with their hazard category, each with the
// split its request pool puts it in.
struct BenignRequest {
  std::string request, answer;
  Split split = Split::train;
};
struct HarmfulRequest {
  std::string category, request;
  Split split = Split::train;
};
std::vector<BenignRequest> all_benign_requests();    // benign.cpp
std::vector<HarmfulRequest> all_harmful_requests();  // harmful.cpp

}  // namespace shog::synth
