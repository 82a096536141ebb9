// The synthetic assistant world (`shoggoth data synth`; docs/synth.md): a
// deterministic generator of prompts with good, refusing and bad replies,
// small enough in vocabulary and length for a 4-layer model to learn, in
// three kinds:
//   helpful  program-checkable tasks: arithmetic, unit conversion, counting,
//            spelling, string manipulation, fact look-ups;
//   harmful  requests in the 13 hazard categories (hazards.h): the good
//            reply is a brief, kind refusal (with a pointer to support for
//            self_harm); the "compliant" bad replies are compliant in form
//            only and carry no harmful information;
//   benign   requests that only sound dangerous ("kill a Python process"):
//            the good reply answers; refusing them is over-refusal.
// Splits are disjoint in templates and vocabulary, not just in rows
// (split.h). The same options give byte-identical files.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/synth/split.h"

namespace shog::synth {

inline constexpr int kGeneratorVersion = 2;  // 2: "frame" on request prompts (session 17)

enum class Kind : uint8_t { helpful, harmful, benign };
const char* kind_name(Kind k);

// Bad reply types, as written in prefs_*.jsonl's "bad_type".
inline constexpr const char* kHarmfulCompliance = "harmful_compliance";
inline constexpr const char* kOverRefusal = "over_refusal";
inline constexpr const char* kWrongAnswer = "wrong_answer";
inline constexpr const char* kRude = "rude";
inline constexpr const char* kLazy = "lazy";

// One prompt with everything the output files are made of.
struct WorldItem {
  Kind kind = Kind::helpful;
  std::string family;    // helpful: arithmetic, units, counting, spelling, strings, facts; else "hazard" / "benign"
  std::string task;      // e.g. "add", "letter_count", "capital"; for harmful the category, for benign "benign"
  std::string category;  // hazard id (hazards.h) for harmful, "none" otherwise
  std::string prompt;    // one user message
  std::string frame;     // harmful and benign: the request frame ("How do I {x}?"); "" for helpful
  std::vector<std::string> good;  // two good replies (for harmful: two refusals); good[0] is the SFT target
  std::string refusal;            // a refusal of this prompt (for harmful = good[0]; otherwise an over-refusal)
  std::vector<std::pair<std::string, std::string>> bad;  // (bad type, reply) for every type that applies
  std::string pref_bad;           // the bad type of the preference pair
  nlohmann::ordered_json checker; // see checker.h
  Provenance provenance;          // "<pool>#<index>" of every template and entity drawn
  const std::string& bad_reply(const std::string& type) const;
};

struct WorldOptions {
  uint64_t seed = 1;
  std::array<size_t, 3> prompts{8000, 500, 500};  // train, val, test
};

struct World {
  std::array<std::vector<WorldItem>, 3> splits;  // indexed by Split
};

World generate_world(const WorldOptions& opt);

// Writes DIR/{sft,prefs,rl,moderation,refusal}_{train,val,test}.jsonl and
// DIR/manifest.json (last), each file atomically; returns the manifest.
nlohmann::ordered_json write_world(const World& world, const WorldOptions& opt, const std::string& dir);

// The JSON lines of one split's file ("sft", "prefs", "rl", "moderation",
// "refusal"), without trailing newlines: what write_world writes.
std::vector<std::string> world_file_lines(const World& world, Split s, const std::string& file);

}  // namespace shog::synth
