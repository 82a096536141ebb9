// Chat template: render -> parse is the identity, masks cover exactly the
// assistant replies and their end markers, and malformed ids are refused.
#include "tokenizer/chat_template.h"

#include <algorithm>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/error.h"
#include "test_corpus.h"

namespace shog {
namespace {

TEST(ChatTemplate, MaskCoversAssistantRepliesAndTheirEnd) {
  ChatTemplate ct(test::sample_tokenizer());
  const Tokenizer& t = test::sample_tokenizer();
  std::vector<ChatMessage> msgs = {{ChatRole::system, "be brief"},
                                   {ChatRole::user, "hello"},
                                   {ChatRole::assistant, "world"},
                                   {ChatRole::user, "again <|end|>"},
                                   {ChatRole::assistant, "the quick fox"}};
  RenderedChat r = ct.render(msgs);
  ASSERT_EQ(r.ids.size(), r.mask.size());
  std::vector<int32_t> expect_ids = {*t.special_id("<|bos|>")};
  std::vector<uint8_t> expect_mask = {0};
  for (auto& m : msgs) {
    static const char* marker[] = {"<|system|>", "<|user|>", "<|assistant|>"};
    expect_ids.push_back(*t.special_id(marker[int(m.role)]));
    expect_mask.push_back(0);
    for (int32_t id : t.encode(m.content)) {
      expect_ids.push_back(id);
      expect_mask.push_back(m.role == ChatRole::assistant);
    }
    expect_ids.push_back(*t.special_id("<|end|>"));
    expect_mask.push_back(m.role == ChatRole::assistant);
  }
  EXPECT_EQ(r.ids, expect_ids);
  EXPECT_EQ(r.mask, expect_mask);
  // "<|end|>" typed by the user stays text.
  EXPECT_EQ(ct.parse(r.ids), msgs);
  auto gen = ct.render(msgs, true);
  EXPECT_EQ(gen.ids.back(), *t.special_id("<|assistant|>"));
  EXPECT_EQ(gen.mask.back(), 0);
}

TEST(ChatTemplate, TextIsRenderedAsPretrainingSawItAndEveryTokenTrained) {
  ChatTemplate ct(test::sample_tokenizer());
  const Tokenizer& t = test::sample_tokenizer();
  const std::string text = "the quick fox <|end|> jumps";
  RenderedChat r = ct.render_text(text);
  std::vector<int32_t> expect_ids = {*t.special_id("<|bos|>")};
  for (int32_t id : t.encode(text)) expect_ids.push_back(id);
  EXPECT_EQ(r.ids, expect_ids);
  ASSERT_EQ(r.mask.size(), r.ids.size());
  EXPECT_EQ(r.mask[0], 0);  // <|bos|> is context, never a target
  for (size_t i = 1; i < r.mask.size(); ++i) EXPECT_EQ(r.mask[i], 1) << "token " << i;
  // "<|end|>" in a document is text, not the marker.
  EXPECT_EQ(std::count(r.ids.begin(), r.ids.end(), *t.special_id("<|end|>")), 0);
}

RC_GTEST_PROP(ChatTemplate, ParseInvertsRender, ()) {
  static const ChatTemplate ct(test::sample_tokenizer());
  auto n = *rc::gen::inRange<size_t>(0, 6);
  std::vector<ChatMessage> msgs;
  for (size_t i = 0; i < n; ++i)
    msgs.push_back({ChatRole(*rc::gen::inRange(0, 3)), *rc::gen::arbitrary<std::string>()});
  RenderedChat r = ct.render(msgs);
  RC_ASSERT(r.ids.size() == r.mask.size());
  RC_ASSERT(ct.parse(r.ids) == msgs);
}

TEST(ChatTemplate, MalformedIdsAreRefused) {
  ChatTemplate ct(test::sample_tokenizer());
  const Tokenizer& t = test::sample_tokenizer();
  auto ids = ct.render({{ChatRole::user, "hi"}}).ids;
  std::vector<int32_t> no_end(ids.begin(), ids.end() - 1);
  EXPECT_THROW(ct.parse(no_end), Error);
  std::vector<int32_t> no_bos(ids.begin() + 1, ids.end());
  EXPECT_THROW(ct.parse(no_bos), Error);
  std::vector<int32_t> nested = ids;
  nested.insert(nested.begin() + 2, *t.special_id("<|user|>"));
  EXPECT_THROW(ct.parse(nested), Error);
  EXPECT_THROW(parse_chat_role("robot"), Error);
}

}  // namespace
}  // namespace shog
