// The world's knowledge text (knowledge.h).
#include "data/synth/knowledge.h"

#include <algorithm>
#include <map>

#include "core/error.h"
#include "core/random.h"
#include "data/synth/families.h"
#include "data/synth/hazards.h"
#include "data/synth/replies.h"

namespace shog::synth {
namespace {

// What a hazard category's acts are, why they are wrong and whom they hurt,
// in words of their own (not the refusal reasons of refusal.cpp).
struct HarmFacts {
  const char* what;    // "a violent crime"
  const char* why;     // "it can injure or kill a person"
  const char* victim;  // "the person attacked"
};

const std::map<std::string_view, HarmFacts>& harm_facts() {
  static const std::map<std::string_view, HarmFacts> f{
      {"violent_crimes", {"a violent crime", "it can injure or kill a person", "the person attacked"}},
      {"nonviolent_crimes", {"a crime such as theft, fraud or break-in", "it takes what belongs to others",
                             "the people robbed or cheated"}},
      {"sex_crimes", {"a sexual crime", "it violates another person's body and consent", "the person abused"}},
      {"child_exploitation", {"the abuse and exploitation of a child", "it does lasting harm to children",
                              "the child"}},
      {"defamation", {"defamation", "it spreads damaging lies about a real person", "the person lied about"}},
      {"specialized_advice", {"a dangerous risk to health, money or legal rights",
                              "it skips the doctor, lawyer or expert that such a choice needs",
                              "the person who takes the risk"}},
      {"privacy", {"an invasion of privacy", "it tracks or exposes a person without their consent",
                   "the person spied on"}},
      {"intellectual_property", {"piracy and a breach of copyright", "it takes other people's work without paying",
                                 "the artists and makers"}},
      {"indiscriminate_weapons", {"making a weapon of mass harm", "it can kill many people at once",
                                  "whole crowds and cities"}},
      {"hate", {"hate against a group of people", "it attacks people for who they are",
                "the people targeted"}},
      {"self_harm", {"self-harm", "it would hurt the person who is thinking of it",
                     "the person in pain, who deserves support"}},
      {"sexual_content", {"explicit sexual material", "it is graphic adult content that should not be written",
                          "readers who did not ask for it"}},
      {"elections", {"interference with an election", "it cheats voters out of a fair vote",
                     "every voter"}},
  };
  return f;
}

const std::vector<std::string>& harm_templates() {
  static const std::vector<std::string> t{
      "To {x} would be {what}, because {why}.",
      "Anyone who wants to {x} is planning {what}.",
      "It is wrong to {x}: {why}.",
      "The law and common decency forbid anyone to {x}. It is {what}.",
      "Trying to {x} harms {victim}. It is {what}.",
      "Wanting to {x} is never acceptable. It counts as {what}.",
      "Whoever sets out to {x} is doing something harmful, because {why}.",
      "Nobody may {x}, since {why}.",
  };
  return t;
}

// A benign paragraph is one of these, the answer, and another of these.
const std::vector<std::string>& benign_templates() {
  static const std::vector<std::string> t{
      "Here is how people {you_x}.",
      "Wanting to {x} sounds rough, but it is a normal, harmless thing to do.",
      "People often want to {x}. It is safe and legal.",
      "Learning to {x} is an everyday task.",
      "There is nothing wrong with wanting to {x}.",
      "A common question is how to {x}, and the answer is simple.",
      "Nobody is hurt when you {you_x}.",
      "That is the usual way to {x}.",
  };
  return t;
}

// Two different sentences of `templates`, with `middle` between them.
std::string describe(Rng& rng, const std::vector<std::string>& templates, const Vars& vars,
                     const std::string& middle = "") {
  size_t a = rng.below(templates.size()), b = rng.below(templates.size() - 1);
  if (b >= a) ++b;
  std::string out = capitalize(fill(templates[a], vars));
  if (!middle.empty()) out += " " + middle;
  return out + " " + capitalize(fill(templates[b], vars));
}

}  // namespace

std::string world_knowledge_text(const KnowledgeOptions& opt) {
  SHOG_CHECK(opt.passes >= 1, ErrorKind::invalid_argument, "passes", "{} passes: need at least 1", opt.passes);
  std::vector<std::string> paragraphs;
  Rng rng(opt.seed * 0x9e3779b97f4a7c15ull + 0x6b6e6f77);
  const auto benign = all_benign_requests();
  const auto harmful = all_harmful_requests();
  for (int pass = 0; pass < opt.passes; ++pass) {
    for (const auto& b : benign) {
      std::string you_x = to_second_person(b.request);
      paragraphs.push_back(describe(rng, benign_templates(), {{"x", b.request}, {"you_x", you_x}}, b.answer));
    }
    for (const HarmfulRequest& r : harmful) {
      const HarmFacts& h = harm_facts().at(r.category);
      paragraphs.push_back(describe(rng, harm_templates(),
                                    {{"x", r.request}, {"what", h.what}, {"why", h.why}, {"victim", h.victim}}));
    }
  }
  // shuffled, so that no stretch of the corpus is all of one kind
  for (size_t i = paragraphs.size(); i > 1; --i) std::swap(paragraphs[i - 1], paragraphs[rng.below(i)]);
  std::string out;
  for (const auto& p : paragraphs) out += p + "\n\n";
  return out;
}

}  // namespace shog::synth
