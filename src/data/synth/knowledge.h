// The world's knowledge text: plain prose about every request of the
// synthetic world, whatever its split, for the pretraining corpus
// (`shoggoth data knowledge`; docs/synth.md, "Knowledge text").
//
// Why it exists: a base model pretrained on Debian's text alone knows next to
// nothing about walnuts, wifi passwords or ransom, so alignment data that
// holds a request out cannot teach it how to treat it; the model can only go
// by surface words. A real base model knows from pretraining that cracking a
// walnut is cooking and cracking a neighbour's wifi is a crime; alignment
// then teaches what to do with that knowledge. This text plays that part:
// it says what each request is (an everyday task and how it is done, or a
// crime or harm and whom it hurts), in sentences that are not prompts, never
// mention an assistant, a refusal or a reply, and share no template with the
// alignment data. The alignment splits stay disjoint in everything they are
// made of; what the held-out test measures changes from "can alignment tell
// requests apart that the model knows nothing about" to "does alignment
// carry over to requests the model knows about but was not aligned on".
#pragma once
#include <cstdint>
#include <string>

namespace shog::synth {

// Raised whenever the text for the same options changes (resume keys).
inline constexpr int kKnowledgeVersion = 1;

struct KnowledgeOptions {
  uint64_t seed = 1;
  int passes = 4;  // every request is described once per pass, in other sentences
};

// Paragraphs separated by blank lines; the same options give the same text.
std::string world_knowledge_text(const KnowledgeOptions& opt);

}  // namespace shog::synth
