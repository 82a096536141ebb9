// Bits per byte: the packed sum equals a naive log-softmax per sample, every
// token of a plain text is scored exactly once, a uniform model costs
// log2(V) bits per token, only assistant replies count in chat text, and a
// LoRA model is measured with its adapter.
#include "eval/bits_per_byte.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "eval/eval_model.h"
#include "eval_fixture.h"

namespace shog {
namespace {

std::vector<Messages> sample_conversations() {
  return {{{ChatRole::user, "the quick brown fox"}, {ChatRole::assistant, "jumps over the lazy dog"}},
          {{ChatRole::system, "be brief"},
           {ChatRole::user, "hello"},
           {ChatRole::assistant, "world"},
           {ChatRole::user, "again"},
           {ChatRole::assistant, "café naïve 1234"}},
          {{ChatRole::user, "no reply here"}}};
}

// -sum ln p of the masked tokens, one sample at a time, from full logits.
double naive_nll(Transformer& m, const std::vector<TokenizedSample>& samples) {
  const int64_t V = m.config().vocab;
  double nll = 0;
  for (const auto& s : samples) {
    const int64_t n = int64_t(s.ids.size()) - 1;
    m.forward(s.ids.data(), 1, n);
    std::vector<float> logits(size_t(n * V));
    m.logits(logits.data());
    for (int64_t t = 0; t < n; ++t) {
      if (!s.mask[size_t(t + 1)]) continue;
      const float* row = logits.data() + t * V;
      double mx = row[0];
      for (int64_t v = 1; v < V; ++v) mx = std::max(mx, double(row[v]));
      double z = 0;
      for (int64_t v = 0; v < V; ++v) z += std::exp(double(row[v]) - mx);
      nll -= double(row[s.ids[size_t(t + 1)]]) - mx - std::log(z);
    }
  }
  return nll;
}

TEST(BitsPerByte, PackedSumEqualsNaiveLogSoftmaxPerSample) {
  Transformer m(evaltest::tiny_config());
  m.init_weights(11, 0.1f);
  ChatTemplate chat(test::sample_tokenizer());
  ScoredSamples s = chat_reply_samples(chat, sample_conversations(), 64);
  ASSERT_EQ(s.samples.size(), 2u);  // the conversation without a reply scores nothing
  std::string text = test::sample_corpus().substr(0, 600);
  ScoredSamples w = plain_text_windows(test::sample_tokenizer(), text, 16);
  ASSERT_GT(w.samples.size(), 3u);
  auto all = s.samples;
  all.insert(all.end(), w.samples.begin(), w.samples.end());
  // Two rows per call: several calls, samples of different kinds sharing rows.
  NllSum got = sum_nll(m, all, 64, 2, 0);
  int64_t masked = 0;
  for (const auto& x : all)
    for (size_t i = 1; i < x.mask.size(); ++i) masked += x.mask[i];
  EXPECT_EQ(got.tokens, masked);
  const double want = naive_nll(m, all);
  EXPECT_NEAR(got.nats, want, 1e-4 * want);
}

TEST(BitsPerByte, PerSampleNllMatchesEachSampleAloneWhenSamplesShareRows) {
  Transformer m(evaltest::tiny_config());
  m.init_weights(12, 0.1f);
  std::string text = test::sample_corpus().substr(0, 900);
  ScoredSamples w = plain_text_windows(test::sample_tokenizer(), text, 9);
  ASSERT_GT(w.samples.size(), 6u);
  // Windows of 10 tokens in rows of 64: several share each row.
  const std::vector<NllSum> got = sample_nll(m, w.samples, 64, 2, 0);
  ASSERT_EQ(got.size(), w.samples.size());
  for (size_t i = 0; i < w.samples.size(); ++i) {
    const double want = naive_nll(m, {w.samples[i]});
    EXPECT_NEAR(got[i].nats, want, 1e-4 * want) << "sample " << i;
    EXPECT_EQ(got[i].tokens, int64_t(w.samples[i].ids.size()) - 1) << "sample " << i;
  }
}

TEST(BitsPerByte, PlainTextWindowsScoreEveryTokenAfterTheFirstOnce) {
  const Tokenizer& tok = test::sample_tokenizer();
  const std::string text = test::sample_corpus().substr(0, 500);
  for (int64_t T : {1, 7, 16, 1000}) {
    ScoredSamples w = plain_text_windows(tok, text, T);
    std::vector<int32_t> ids{*tok.special_id("<|bos|>")};
    auto body = tok.encode(text);
    ids.insert(ids.end(), body.begin(), body.end());
    // Reassemble the scored tokens: exactly ids[1..].
    std::vector<int32_t> scored;
    for (const auto& s : w.samples) {
      ASSERT_LE(int64_t(s.ids.size()), T + 1);
      EXPECT_EQ(s.mask[0], 0);
      for (size_t i = 1; i < s.ids.size(); ++i)
        if (s.mask[i]) scored.push_back(s.ids[i]);
    }
    EXPECT_EQ(scored, std::vector<int32_t>(ids.begin() + 1, ids.end())) << "T=" << T;
    EXPECT_EQ(w.bytes, int64_t(text.size()));
  }
}

TEST(BitsPerByte, UniformModelCostsLog2VocabBitsPerToken) {
  ModelConfig c = evaltest::tiny_config();
  Transformer m(c);
  std::memset(m.params(), 0, size_t(m.num_floats()) * sizeof(float));  // zero logits: uniform
  m.sync_compute_weights();
  ChatTemplate chat(test::sample_tokenizer());
  ScoredSamples s = chat_reply_samples(chat, sample_conversations(), 64);
  NllSum nll = sum_nll(m, s.samples, 64, 4, 0);
  EXPECT_NEAR(nll.nats / double(nll.tokens), std::log(double(c.vocab)), 1e-5);
  BitsPerByte b{nll.nats, nll.tokens, s.bytes, 0};
  EXPECT_NEAR(b.value(), double(nll.tokens) * std::log2(double(c.vocab)) / double(s.bytes), 1e-4);
}

TEST(BitsPerByte, ChatTextCountsOnlyAssistantBytesAndSkipsLongConversations) {
  ChatTemplate chat(test::sample_tokenizer());
  auto convs = sample_conversations();
  ScoredSamples s = chat_reply_samples(chat, convs, 64);
  EXPECT_EQ(s.bytes, int64_t(std::string("jumps over the lazy dog").size() + std::string("world").size() +
                             std::string("café naïve 1234").size()));
  EXPECT_EQ(s.skipped, 0);
  // Masked: each reply's content tokens and its <|end|>.
  const auto& tok = test::sample_tokenizer();
  int64_t masked = 0;
  for (const auto& x : s.samples)
    for (size_t i = 1; i < x.mask.size(); ++i) masked += x.mask[i];
  EXPECT_EQ(masked, int64_t(tok.encode("jumps over the lazy dog").size() + tok.encode("world").size() +
                            tok.encode("café naïve 1234").size() + 3));
  ScoredSamples short_ctx = chat_reply_samples(chat, convs, 6);
  EXPECT_EQ(short_ctx.skipped, 2);
  EXPECT_TRUE(short_ctx.samples.empty());
  EXPECT_EQ(short_ctx.bytes, 0);
  EXPECT_TRUE(std::isnan(BitsPerByte{}.value()));
}

TEST(BitsPerByte, LoraModelIsMeasuredWithItsAdapter) {
  testing::TempDir d;
  evaltest::write_model_dir(d.file("base"), 3);
  evaltest::write_adapter_dir(d.file("zero"), d.file("base"), false);
  evaltest::write_adapter_dir(d.file("moved"), d.file("base"), true);
  BpbText text;
  text.chat = true;
  text.conversations = sample_conversations();
  auto bpb = [&](const std::string& name) {
    EvalModel m = EvalModel::load({name, d.file(name)}, DType::f32);
    return bits_per_byte(m, text).value();
  };
  const double base = bpb("base"), zero = bpb("zero"), moved = bpb("moved");
  EXPECT_TRUE(std::isfinite(base));
  EXPECT_NEAR(zero, base, 1e-6 * base);  // B = 0: the adapter changes nothing
  EXPECT_GT(std::fabs(moved - base), 1e-3 * base);  // far beyond rounding (the zero adapter's 1e-6)
}

TEST(BitsPerByte, EmptyOrMissingTextIsAnErrorNamingTheFile) {
  testing::TempDir d;
  { std::ofstream(d.file("empty.txt")); }
  try {
    read_plain_text(d.file("empty.txt"));
    FAIL() << "accepted an empty text";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    EXPECT_NE(std::string(e.what()).find("empty.txt"), std::string::npos);
  }
  EXPECT_THROW(read_plain_text(d.file("nowhere.txt")), Error);
  { std::ofstream(d.file("noreply.jsonl")) << R"({"messages": [{"role": "user", "content": "hi"}]})" << "\n"; }
  EXPECT_THROW(read_chat_text(d.file("noreply.jsonl")), Error);
}

}  // namespace
}  // namespace shog
