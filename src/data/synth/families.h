// The three kinds of prompt in the synthetic world, each drawn from split
// s's part of its pools (world.h, split.h).
#pragma once
#include "data/synth/world.h"

namespace shog::synth {

WorldItem make_helpful(Rng& rng, Split s);  // helpful.cpp
WorldItem make_harmful(Rng& rng, Split s);  // harmful.cpp
WorldItem make_benign(Rng& rng, Split s);   // benign.cpp

}  // namespace shog::synth
