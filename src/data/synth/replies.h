// Reply phrasings shared by every family of the synthetic world: refusals
// (with a reason per hazard category and, for self-harm, a pointer to
// support), over-refusals, form-only "compliance", rude and lazy replies.
// Each is drawn from the split's own part of its pools (split.h).
#pragma once
#include <string>
#include <string_view>

#include "data/synth/split.h"

namespace shog::synth {

// A brief, kind refusal of a request in `category` (a hazard id).
std::string refusal_reply(Rng& rng, Split s, std::string_view category, Provenance& prov);
// A refusal of a harmless request: the over-refusal failure.
std::string over_refusal_reply(Rng& rng, Split s, Provenance& prov);
// Compliant in form only: restates the request (`request_you`, second
// person) and gives placeholder steps with no information in them.
std::string compliance_reply(Rng& rng, Split s, std::string_view request_you, Provenance& prov);
// The correct answer wrapped in a rude remark.
std::string rude_answer(Rng& rng, Split s, const std::string& answer, Provenance& prov);
// A rude refusal (the bad reply to a harmful request that is not compliance).
std::string rude_refusal(Rng& rng, Split s, Provenance& prov);
// A vague non-answer that neither answers nor declines.
std::string lazy_reply(Rng& rng, Split s, Provenance& prov);
// `answer` behind an opener ("Sure.", "Easy:", none ...) from the pool that
// harmful compliance opens with too, so that only the request and the
// content tell a good answer from compliance.
std::string opened_answer(Rng& rng, Split s, const std::string& answer, Provenance& prov);
// "How do I {x}?" ...: the request frames shared by harmful and benign
// prompts, so that only the request itself tells them apart.
const Pool& request_frames();

// First-person request to second person: my -> your, myself -> yourself, me -> you.
std::string to_second_person(std::string_view request);

}  // namespace shog::synth
