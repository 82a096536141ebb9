#include "data/records.h"

#include <functional>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/file_io.h"
#include "data/jsonl.h"
#include "data/test_dir.h"

namespace shog {
namespace {

using R = ChatRole;

std::string write_lines(const testing::TempDir& dir, const std::string& name, const std::string& text) {
  auto path = dir.file(name);
  write_file_atomic(path, text);
  return path;
}

// fn must throw shog::Error of kind bad_input whose message names `where`
// and contains `needle`.
void expect_bad(const std::function<void()>& fn, const std::string& where, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected " << where << ": ..." << needle;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input) << e.what();
    EXPECT_EQ(e.where(), where) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

TEST(Jsonl, SkipsBlankLinesAndNamesEachLine) {
  testing::TempDir dir;
  auto p = write_lines(dir, "a.jsonl", "{\"a\": 1}\n\n   \r\n{\"a\": 2}\r\n");
  std::vector<std::string> where;
  std::vector<int> values;
  for_each_jsonl(p, [&](const nlohmann::json& j, const std::string& w) {
    values.push_back(j["a"]);
    where.push_back(w);
  });
  EXPECT_EQ(values, (std::vector<int>{1, 2}));
  EXPECT_EQ(where, (std::vector<std::string>{p + ":1", p + ":4"}));
}

TEST(Jsonl, MissingFileIsAnIoError) {
  try {
    JsonlReader r("/nonexistent/x.jsonl");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_EQ(e.where(), "/nonexistent/x.jsonl");
  }
}

TEST(Jsonl, BadJsonNotAnObjectAndInvalidUtf8NameTheLine) {
  testing::TempDir dir;
  auto p = write_lines(dir, "bad.jsonl", "{\"a\": 1}\n{\"a\": \n");
  expect_bad([&] { for_each_jsonl(p, [](auto&, auto&) {}); }, p + ":2", "not valid JSON");
  p = write_lines(dir, "arr.jsonl", "\n[1, 2]\n");
  expect_bad([&] { for_each_jsonl(p, [](auto&, auto&) {}); }, p + ":2", "expected a JSON object, got array");
  p = write_lines(dir, "latin1.jsonl", "{}\n{}\n{\"a\": \"caf\xe9\"}\n");
  expect_bad([&] { for_each_jsonl(p, [](auto&, auto&) {}); }, p + ":3", "invalid UTF-8 at column 11");
}

const std::string kConv = R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})";

// --- conversational and prompt/completion ----------------------------------------

TEST(Records, ConversationalMessages) {
  testing::TempDir dir;
  auto p = write_lines(dir, "c.jsonl",
                       R"({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},)"
                       R"( {"role": "assistant", "content": "Hello!"}], "source": "x"})"
                       "\n");
  auto cs = read_conversations(p);
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].messages,
            (Messages{{R::system, "Be brief."}, {R::user, "Hi"}, {R::assistant, "Hello!"}}));
}

TEST(Records, PromptCompletionStringAndConversational) {
  testing::TempDir dir;
  auto p = write_lines(dir, "pc.jsonl",
                       R"({"prompt": "2+2?", "completion": "4"})"
                       "\n"
                       R"({"prompt": [{"role": "user", "content": "a"}], "completion": [{"role": "assistant", "content": "b"}]})"
                       "\n");
  auto cs = read_conversations(p);
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].messages, (Messages{{R::user, "2+2?"}, {R::assistant, "4"}}));
  EXPECT_EQ(cs[1].messages, (Messages{{R::user, "a"}, {R::assistant, "b"}}));
}

TEST(Records, TextDocumentIsItsOwnForm) {
  testing::TempDir dir;
  auto p = write_lines(dir, "t.jsonl",
                       R"({"text": "Cracking a walnut is harmless.", "source": "x"})"
                       "\n" +
                           kConv + "\n");
  auto cs = read_conversations(p);
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_TRUE(cs[0].is_text());
  EXPECT_EQ(cs[0].text, "Cracking a walnut is harmless.");
  EXPECT_TRUE(cs[0].messages.empty());
  EXPECT_FALSE(cs[1].is_text());
  EXPECT_EQ(cs[1].messages.size(), 2u);
}

// --- preferences ------------------------------------------------------------------

TEST(Records, PreferenceExplicitPromptStringForm) {
  auto p = parse_preference(
      nlohmann::json::parse(R"({"prompt": "Q", "chosen": "good", "rejected": "bad", "category": "hate", "kind": "harmful"})"),
      "f:1");
  EXPECT_EQ(p.prompt, (Messages{{R::user, "Q"}}));
  EXPECT_EQ(p.chosen, (Messages{{R::assistant, "good"}}));
  EXPECT_EQ(p.rejected, (Messages{{R::assistant, "bad"}}));
  EXPECT_EQ(p.meta, nlohmann::json::parse(R"({"category": "hate", "kind": "harmful"})"));
}

TEST(Records, PreferenceExplicitPromptConversationalMayRepeatThePrompt) {
  auto p = parse_preference(nlohmann::json::parse(R"({
      "prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}],
      "chosen": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}],
      "rejected": [{"role": "assistant", "content": "B"}]})"),
                            "f:1");
  EXPECT_EQ(p.prompt, (Messages{{R::system, "S"}, {R::user, "Q"}}));
  EXPECT_EQ(p.chosen, (Messages{{R::assistant, "A"}}));
  EXPECT_EQ(p.rejected, (Messages{{R::assistant, "B"}}));
}

TEST(Records, PreferenceImplicitPromptIsTheSharedLeadingMessages) {
  auto p = parse_preference(nlohmann::json::parse(R"({
      "chosen": [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"},
                 {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "good"}],
      "rejected": [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"},
                   {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "bad"}]})"),
                            "f:1");
  EXPECT_EQ(p.prompt, (Messages{{R::user, "Q1"}, {R::assistant, "A1"}, {R::user, "Q2"}}));
  EXPECT_EQ(p.chosen, (Messages{{R::assistant, "good"}}));
  EXPECT_EQ(p.rejected, (Messages{{R::assistant, "bad"}}));
  EXPECT_TRUE(p.meta.empty());
}

TEST(Records, PreferenceImplicitPromptCutsBackToTheLastUserTurn) {
  // The first assistant reply is shared too, but the replies differ later:
  // the prompt is Q1 only and both continuations start with the same A1.
  auto p = parse_preference(nlohmann::json::parse(R"({
      "chosen": [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}],
      "rejected": [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"},
                   {"role": "user", "content": "more"}, {"role": "assistant", "content": "A2"}]})"),
                            "f:1");
  EXPECT_EQ(p.prompt, (Messages{{R::user, "Q1"}}));
  EXPECT_EQ(p.chosen.size(), 1u);
  EXPECT_EQ(p.rejected.size(), 3u);
}

TEST(Records, PreferenceHhRlhfStrings) {
  auto p = parse_preference(nlohmann::json::parse(R"({
      "chosen": "\n\nHuman: What is 2+2?\n\nAssistant: 4.\n\nHuman: And 3+3?\n\nAssistant: 6.",
      "rejected": "\n\nHuman: What is 2+2?\n\nAssistant: 4.\n\nHuman: And 3+3?\n\nAssistant: Go away."})"),
                            "f:1");
  EXPECT_EQ(p.prompt, (Messages{{R::user, "What is 2+2?"}, {R::assistant, "4."}, {R::user, "And 3+3?"}}));
  EXPECT_EQ(p.chosen, (Messages{{R::assistant, "6."}}));
  EXPECT_EQ(p.rejected, (Messages{{R::assistant, "Go away."}}));
}

TEST(Records, PromptOnlyKeepsExtraFieldsInMeta) {
  testing::TempDir dir;
  auto p = write_lines(dir, "rl.jsonl",
                       R"({"prompt": "What is 3 + 4?", "checker": {"kind": "helpful", "answer": "7"}, "kind": "helpful"})"
                       "\n"
                       R"({"prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]})"
                       "\n");
  auto rs = read_prompts(p);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].prompt, (Messages{{R::user, "What is 3 + 4?"}}));
  EXPECT_EQ(rs[0].meta["checker"]["answer"], "7");
  EXPECT_EQ(rs[0].meta["kind"], "helpful");
  EXPECT_FALSE(rs[0].meta.contains("prompt"));
  EXPECT_EQ(rs[1].prompt, (Messages{{R::system, "S"}, {R::user, "Q"}}));
  EXPECT_TRUE(rs[1].meta.empty());
}

// --- errors: each names <file>:<line> --------------------------------------------

// Writes `bad` as line 3 of a file after two good lines, reads it with
// `read`, and expects an error at line 3 mentioning `needle`.
void expect_bad_line(const std::string& good, const std::string& bad, const std::string& needle,
                     const std::function<void(const std::string&)>& read) {
  testing::TempDir dir;
  auto p = write_lines(dir, "r.jsonl", good + "\n\n" + good + "\n" + bad + "\n" + good + "\n");
  // blank line 2: the bad record is on line 4
  expect_bad([&] { read(p); }, p + ":4", needle);
}

const std::string kPref = R"({"prompt": "q", "chosen": "a", "rejected": "b"})";
const std::string kPrompt = R"({"prompt": "q"})";

void conv(const std::string& p) { read_conversations(p); }
void pref(const std::string& p) { read_preferences(p); }
void prompt(const std::string& p) { read_prompts(p); }

TEST(RecordErrors, BadJson) { expect_bad_line(kConv, R"({"messages": [)", "not valid JSON", conv); }

TEST(RecordErrors, InvalidUtf8) { expect_bad_line(kPrompt, "{\"prompt\": \"\xff\"}", "invalid UTF-8", prompt); }

TEST(RecordErrors, WrongTypes) {
  expect_bad_line(kConv, R"({"messages": "hello"})", "field \"messages\" is a string, not a list of messages", conv);
  expect_bad_line(kConv, R"({"messages": [{"role": "user", "content": 5}]})", "\"content\" is a number", conv);
  expect_bad_line(kConv, R"({"messages": [{"role": 1, "content": "x"}]})", "\"role\" is a number", conv);
  expect_bad_line(kPref, R"({"prompt": "q", "chosen": 3, "rejected": "b"})",
                  "field \"chosen\" is a number, not a string or a list of messages", pref);
  expect_bad_line(kPrompt, R"({"prompt": {"text": "q"}})", "field \"prompt\" is a object", prompt);
}

TEST(RecordErrors, UnknownRole) {
  expect_bad_line(kConv, R"({"messages": [{"role": "user", "content": "q"}, {"role": "bot", "content": "a"}]})",
                  "message 2: unknown role \"bot\"", conv);
}

TEST(RecordErrors, EmptyContent) {
  expect_bad_line(kConv, R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "  "}]})",
                  "message 2: empty content", conv);
  expect_bad_line(kPref, R"({"prompt": "q", "chosen": "", "rejected": "b"})", "field \"chosen\" is empty", pref);
  expect_bad_line(kConv, R"({"messages": []})", "empty list of messages", conv);
}

TEST(RecordErrors, MissingFields) {
  expect_bad_line(kConv, R"({"question": "q"})", "missing field \"messages\"", conv);
  expect_bad_line(kConv, R"({"prompt": "q"})", "missing field \"completion\"", conv);
  expect_bad_line(kConv, R"({"messages": [{"content": "q"}]})", "missing \"role\"", conv);
  expect_bad_line(kConv, R"({"messages": [{"role": "user"}]})", "missing \"content\"", conv);
  expect_bad_line(kPref, R"({"prompt": "q", "chosen": "a"})", "missing field \"rejected\"", pref);
  expect_bad_line(kPrompt, R"({"question": "q"})", "missing field \"prompt\"", prompt);
}

TEST(RecordErrors, TextDocument) {
  expect_bad_line(kConv, R"({"text": 7})", "\"text\" must be a string, got number", conv);
  expect_bad_line(kConv, R"({"text": " \n "})", "\"text\" is blank", conv);
}

TEST(RecordErrors, StructureOfTurns) {
  expect_bad_line(kConv, R"({"messages": [{"role": "user", "content": "q"}]})", "no assistant message", conv);
  expect_bad_line(kPrompt, R"({"prompt": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})",
                  "ends with a assistant message", prompt);
  expect_bad_line(kConv, R"({"messages": [{"role": "user", "content": "q"}], "prompt": "q"})", "use one form", conv);
}

TEST(RecordErrors, PreferenceIdenticalChosenAndRejected) {
  expect_bad_line(kPref, R"({"prompt": "q", "chosen": "same", "rejected": "same"})",
                  "chosen and rejected are identical", pref);
}

TEST(RecordErrors, PreferencePromptMismatch) {
  // implicit: they differ in the user turn, not in the reply
  expect_bad_line(kPref,
                  R"({"chosen": [{"role": "user", "content": "q"}, {"role": "user", "content": "x"}, {"role": "assistant", "content": "a"}],)"
                  R"( "rejected": [{"role": "user", "content": "q"}, {"role": "user", "content": "y"}, {"role": "assistant", "content": "b"}]})",
                  "prompt mismatch", pref);
  expect_bad_line(kPref,
                  R"({"chosen": [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a"}],)"
                  R"( "rejected": [{"role": "user", "content": "q2"}, {"role": "assistant", "content": "b"}]})",
                  "share no leading prompt", pref);
  // explicit: a continuation that carries another prompt
  expect_bad_line(kPref,
                  R"({"prompt": "q", "chosen": [{"role": "user", "content": "other"}, {"role": "assistant", "content": "a"}], "rejected": "b"})",
                  "prompt mismatch: field \"chosen\"", pref);
  expect_bad_line(kPref, R"({"chosen": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "rejected": "b"})",
                  "must both be message lists", pref);
}

TEST(RecordErrors, HhRlhfThatDoesNotAlternate) {
  expect_bad_line(kPref, R"({"chosen": "\n\nHuman: a\n\nHuman: b\n\nAssistant: c", "rejected": "\n\nHuman: a\n\nAssistant: d"})",
                  "HH-RLHF turn 2 is Human where Assistant was expected", pref);
  expect_bad_line(kPref, R"({"chosen": "\n\nAssistant: hi", "rejected": "\n\nHuman: a\n\nAssistant: d"})",
                  "not an HH-RLHF dialogue", pref);
  expect_bad_line(kPref, R"({"chosen": "\n\nHuman: a\n\nAssistant: c\n\nHuman: more", "rejected": "\n\nHuman: a\n\nAssistant: d"})",
                  "ends with a Human turn", pref);
  expect_bad_line(kPref, R"({"chosen": "\n\nHuman: a\n\nAssistant:   ", "rejected": "\n\nHuman: a\n\nAssistant: d"})",
                  "HH-RLHF turn 2 (Assistant) is empty", pref);
  expect_bad_line(kPref, R"({"chosen": "just text", "rejected": "\n\nHuman: a\n\nAssistant: d"})",
                  "not an HH-RLHF dialogue", pref);
}

}  // namespace
}  // namespace shog
