// The world's knowledge text (data/synth/knowledge.h): deterministic, about
// every request of every split, and made of none of the alignment data's
// material (no prompt, refusal, compliance or over-refusal of any split, no
// words about assistants or declining).
#include <algorithm>
#include <cctype>
#include <string>

#include <gtest/gtest.h>

#include "core/error.h"
#include "data/synth/families.h"
#include "data/synth/knowledge.h"
#include "data/synth/world.h"

namespace shog::synth {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const std::string& default_text() {
  static const std::string t = world_knowledge_text(KnowledgeOptions{});
  return t;
}

TEST(SynthKnowledge, SameSeedSameTextOtherSeedOtherText) {
  KnowledgeOptions o;
  EXPECT_EQ(world_knowledge_text(o), default_text());
  o.seed = 2;
  EXPECT_NE(world_knowledge_text(o), default_text());
  o.seed = 1, o.passes = 1;
  const std::string one = world_knowledge_text(o);
  EXPECT_LT(one.size() * 3, default_text().size());  // four passes are about four times one
  o.passes = 0;
  EXPECT_THROW(world_knowledge_text(o), Error);
}

TEST(SynthKnowledge, DescribesEveryRequestOfEverySplitOncePerPass) {
  KnowledgeOptions o;
  o.passes = 3;
  const std::string text = world_knowledge_text(o);
  // paragraphs: one per request and pass
  size_t paragraphs = 0;
  for (size_t p = text.find("\n\n"); p != text.npos; p = text.find("\n\n", p + 2)) ++paragraphs;
  const auto benign = all_benign_requests();
  const auto harmful = all_harmful_requests();
  EXPECT_EQ(paragraphs, 3 * (benign.size() + harmful.size()));
  EXPECT_GE(benign.size(), 250u);
  EXPECT_EQ(harmful.size(), 13u * 40u);
  for (const auto& b : benign) {
    EXPECT_NE(text.find(b.request), text.npos) << b.request;
    EXPECT_NE(text.find(b.answer), text.npos) << b.answer;
  }
  for (const HarmfulRequest& h : harmful) EXPECT_NE(text.find(h.request), text.npos) << h.request;
}

TEST(SynthKnowledge, HoldsNoneOfTheAlignmentData) {
  const std::string text = lower(default_text());
  for (const char* word : {"assistant", "i'm sorry", "i can't", "i cannot", "i won't", "declin", "help with that"})
    EXPECT_EQ(text.find(word), text.npos) << word;
  WorldOptions wo;
  wo.prompts = {3000, 500, 500};
  const World world = generate_world(wo);
  for (Split s : kSplits)
    for (const WorldItem& it : world.splits[size_t(s)]) {
      ASSERT_EQ(text.find(lower(it.prompt)), text.npos) << split_name(s) << ": " << it.prompt;
      if (it.kind == Kind::harmful) {
        for (const auto& g : it.good) ASSERT_EQ(text.find(lower(g)), text.npos) << g;
      }
      ASSERT_EQ(text.find(lower(it.refusal)), text.npos) << it.refusal;
      for (const auto& [type, reply] : it.bad) {
        if (type == kWrongAnswer) continue;  // a benign wrong answer is another request's answer, which the text has
        ASSERT_EQ(text.find(lower(reply)), text.npos) << type << ": " << reply;
      }
    }
}

}  // namespace
}  // namespace shog::synth
