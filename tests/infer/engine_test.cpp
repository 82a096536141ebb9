// The generation engine: batching changes nothing a request sees, sampling is
// reproducible from the seed, and every way a request ends (stop token, stop
// string, length, cancellation) ends it cleanly and returns its cache blocks.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "core/random.h"
#include "infer/engine.h"
#include "infer/text_stream.h"
#include "model/transformer.h"
#include "tokenizer/bpe_trainer.h"

using namespace shog;

// Requests are written {prompt, params} with the callbacks left empty.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace {

std::unique_ptr<Transformer> tiny_model() {
  auto m = std::make_unique<Transformer>(model_preset("tiny"));
  m->init_weights(3, 0.1f);  // large enough that sampling is not uniform noise
  return m;
}

std::vector<int32_t> random_tokens(int64_t n, int64_t vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> t;
  for (int64_t i = 0; i < n; ++i) t.push_back(int32_t(rng.below(uint64_t(vocab))));
  return t;
}

SamplingParams sampled(uint64_t seed, int max_new) {
  SamplingParams p;
  p.temperature = 0.9f, p.top_k = 50, p.top_p = 0.95f, p.seed = seed, p.max_new_tokens = max_new;
  return p;
}

SamplingParams greedy(int max_new) {
  SamplingParams p;
  p.temperature = 0.0f, p.max_new_tokens = max_new;
  return p;
}

std::vector<int32_t> ids(const GenerationResult& r) {
  std::vector<int32_t> v;
  for (auto& t : r.tokens) v.push_back(t.token);
  return v;
}

const Tokenizer& small_tokenizer() {
  static Tokenizer tok = [] {
    std::string text;
    for (int i = 0; i < 40; ++i)
      text += "the quick brown fox jumps over the lazy dog; a stitch in time saves nine. " + std::to_string(i) + "\n";
    BpeTrainOptions o;
    o.vocab_size = 320;
    o.threads = 1;
    return train_bpe_on_texts({text}, {"test"}, o);
  }();
  return tok;
}

}  // namespace

// The engine's greedy tokens are the argmax of the full-recompute logits.
TEST(Engine, GreedyTokensEqualFullRecomputeArgmax) {
  auto m = tiny_model();
  const int64_t V = m->config().vocab;
  auto prompt = random_tokens(13, V, 1);
  Engine eng(*m, nullptr, {});
  auto id = eng.add({prompt, greedy(12)});
  eng.run_until_done();
  auto got = ids(eng.take_result(id));

  std::vector<int32_t> seq = prompt, want;
  for (int i = 0; i < 12; ++i) {
    m->forward(seq.data(), 1, int64_t(seq.size()));
    std::vector<float> logits(seq.size() * size_t(V));
    m->logits(logits.data());
    const float* last = logits.data() + (seq.size() - 1) * size_t(V);
    int32_t best = int32_t(std::max_element(last, last + V) - last);
    want.push_back(best), seq.push_back(best);
  }
  EXPECT_EQ(got, want);
}

// Requests run together (different prompt lengths, prompts cut into small
// prefill chunks, sequences joining mid-way) give exactly the tokens each
// gets alone; seeded sampling makes that comparable.
TEST(Engine, BatchedRequestsEqualSoloRuns) {
  auto m = tiny_model();
  const int64_t V = m->config().vocab;
  std::vector<GenerationRequest> reqs;
  for (int i = 0; i < 6; ++i)
    reqs.push_back({random_tokens(3 + 5 * i, V, 100 + i), i % 2 ? greedy(10 + i) : sampled(7 + i, 10 + i)});

  EngineOptions batched;
  batched.max_batch = 4, batched.prefill_chunk = 7;  // forces queueing and chunked prefill
  Engine eng(*m, nullptr, batched);
  std::vector<RequestId> rid;
  for (auto& r : reqs) rid.push_back(eng.add(r));
  int max_running = 0;
  while (eng.step()) max_running = std::max(max_running, int(eng.num_running()));
  EXPECT_EQ(max_running, 4);
  EXPECT_EQ(eng.kv().free_blocks(), eng.kv().num_blocks());

  for (size_t i = 0; i < reqs.size(); ++i) {
    Engine solo(*m, nullptr, {});
    auto id = solo.add(reqs[i]);
    solo.run_until_done();
    auto a = eng.take_result(rid[i]), b = solo.take_result(id);
    EXPECT_EQ(ids(a), ids(b)) << "request " << i;
    EXPECT_EQ(a.finish, FinishReason::length);
    EXPECT_EQ(int(a.tokens.size()), reqs[i].params.max_new_tokens);
    for (size_t k = 0; k < a.tokens.size() && k < b.tokens.size(); ++k)
      EXPECT_NEAR(a.tokens[k].logprob, b.tokens[k].logprob, 1e-4);
  }
}

TEST(Engine, SeededSamplingIsReproducible) {
  auto m = tiny_model();
  auto prompt = random_tokens(5, m->config().vocab, 2);
  auto run = [&](uint64_t seed) {
    Engine eng(*m, nullptr, {});
    auto id = eng.add({prompt, sampled(seed, 24)});
    eng.run_until_done();
    return ids(eng.take_result(id));
  };
  auto a = run(11), b = run(11), c = run(12);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);  // 24 draws from a non-degenerate distribution
}

// A callback returning false, a cancel flag and Engine::cancel all end the
// request at once and give its blocks back; the others carry on.
TEST(Engine, CancellationFreesBlocks) {
  auto m = tiny_model();
  const int64_t V = m->config().vocab;
  EngineOptions o;
  o.kv_blocks = 16, o.block_size = 8;
  Engine eng(*m, nullptr, o);
  int seen = 0;
  GenerationRequest by_callback{random_tokens(20, V, 3), greedy(40)};
  by_callback.on_event = [&](const StreamEvent& e) { return ++seen < 3; };
  GenerationRequest by_flag{random_tokens(20, V, 4), greedy(40)};
  by_flag.cancel = std::make_shared<std::atomic<bool>>(false);
  GenerationRequest survivor{random_tokens(9, V, 5), greedy(20)};
  auto a = eng.add(by_callback), b = eng.add(by_flag), c = eng.add(survivor);
  for (int i = 0; i < 5; ++i) eng.step();
  EXPECT_TRUE(eng.finished(a));
  EXPECT_EQ(eng.num_running(), 2);
  const int64_t free_before = eng.kv().free_blocks();
  by_flag.cancel->store(true);
  eng.step();
  EXPECT_TRUE(eng.finished(b));
  EXPECT_GT(eng.kv().free_blocks(), free_before);
  eng.run_until_done();
  auto ra = eng.take_result(a), rb = eng.take_result(b), rc = eng.take_result(c);
  EXPECT_EQ(ra.finish, FinishReason::cancelled);
  EXPECT_EQ(ra.tokens.size(), 3u);
  EXPECT_EQ(rb.finish, FinishReason::cancelled);
  EXPECT_EQ(rc.finish, FinishReason::length);
  EXPECT_EQ(rc.tokens.size(), 20u);
  EXPECT_EQ(eng.kv().free_blocks(), eng.kv().num_blocks());

  auto d = eng.add({random_tokens(4, V, 6), greedy(10)});
  eng.cancel(d);
  eng.run_until_done();
  EXPECT_EQ(eng.take_result(d).finish, FinishReason::cancelled);
}

TEST(Engine, StopTokenAndMaxTokens) {
  auto m = tiny_model();
  auto prompt = random_tokens(6, m->config().vocab, 8);
  Engine eng(*m, nullptr, {});
  auto free_run = eng.add({prompt, greedy(10)});
  eng.run_until_done();
  auto r = eng.take_result(free_run);
  ASSERT_EQ(r.tokens.size(), 10u);
  EXPECT_EQ(r.finish, FinishReason::length);
  // Stop at the first occurrence of the 4th token.
  const int32_t stop = r.tokens[3].token;
  size_t first = 0;
  while (r.tokens[first].token != stop) ++first;
  SamplingParams p = greedy(10);
  p.stop_tokens = {stop};
  auto stopped = eng.add({prompt, p});
  eng.run_until_done();
  auto s = eng.take_result(stopped);
  EXPECT_EQ(s.finish, FinishReason::stop_token);
  EXPECT_EQ(s.tokens.size(), first + 1);
  EXPECT_EQ(s.tokens.back().token, stop);
}

TEST(Engine, PromptLongerThanContextIsAnErrorOrTruncated) {
  auto m = tiny_model();
  const int64_t max_seq = m->config().max_seq;
  auto prompt = random_tokens(max_seq + 5, m->config().vocab, 9);
  Engine eng(*m, nullptr, {});
  try {
    eng.add({prompt, greedy(4)});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("context"), std::string::npos) << e.what();
  }
  GenerationRequest t{prompt, greedy(4), PromptOverflow::truncate_left};
  auto id = eng.add(t);
  eng.run_until_done();
  auto r = eng.take_result(id);
  EXPECT_EQ(r.prompt_truncated, 9);
  EXPECT_EQ(int64_t(r.prompt.size()), max_seq - 4);
  EXPECT_TRUE(std::equal(r.prompt.begin(), r.prompt.end(), prompt.end() - (max_seq - 4)));
  EXPECT_EQ(r.tokens.size(), 4u);
  // A prompt that fits but leaves less room than max_new_tokens stops when the context is full.
  auto id2 = eng.add({random_tokens(max_seq - 3, m->config().vocab, 10), greedy(50)});
  eng.run_until_done();
  auto r2 = eng.take_result(id2);
  EXPECT_EQ(r2.finish, FinishReason::length);
  EXPECT_EQ(r2.tokens.size(), 4u);  // positions max_seq-3 .. max_seq-1 fed, plus the last sample
}

TEST(Engine, RequestLargerThanTheCacheIsAnError) {
  auto m = tiny_model();
  EngineOptions o;
  o.kv_blocks = 2, o.block_size = 8;  // 16 tokens
  Engine eng(*m, nullptr, o);
  EXPECT_THROW(eng.add({random_tokens(10, m->config().vocab, 1), greedy(20)}), Error);
  SamplingParams bad = greedy(4);
  bad.top_p = 2.0f;
  EXPECT_THROW(eng.add({random_tokens(3, m->config().vocab, 1), bad}), Error);
  EXPECT_THROW(eng.add({{}, greedy(4)}), Error);
  // Requests that fit one at a time all complete, queued until blocks free up.
  std::vector<RequestId> rid;
  for (int i = 0; i < 4; ++i) rid.push_back(eng.add({random_tokens(6, m->config().vocab, 20 + i), greedy(8)}));
  eng.run_until_done();
  for (auto id : rid) EXPECT_EQ(eng.take_result(id).tokens.size(), 8u);
  EXPECT_EQ(eng.kv().free_blocks(), 2);
}

// Streamed text: the events' pieces concatenate to the result's text, which
// is the decoded tokens; a stop string cuts the text before it.
TEST(Engine, StreamedTextAndStopStrings) {
  auto m = tiny_model();
  const Tokenizer& tok = small_tokenizer();
  auto prompt = tok.encode("the quick brown");
  Engine eng(*m, &tok, {});
  std::string streamed;
  GenerationRequest r{prompt, sampled(5, 40)};
  r.on_event = [&](const StreamEvent& e) {
    streamed.append(e.text);
    return true;
  };
  auto id = eng.add(r);
  eng.run_until_done();
  auto res = eng.take_result(id);
  EXPECT_EQ(streamed, res.text);
  auto toks = ids(res);
  std::vector<int32_t> plain;  // special tokens print nothing
  for (auto t : toks)
    if (!tok.is_special(t)) plain.push_back(t);
  EXPECT_EQ(res.text, tok.decode(plain));
  for (auto t : toks) EXPECT_LT(t, tok.vocab_size());  // padded ids are never sampled
  ASSERT_GE(res.text.size(), 8u);

  // Stop on a piece of that text that starts a few bytes in.
  const std::string stop = res.text.substr(res.text.size() / 2, 3);
  const size_t at = res.text.find(stop);
  GenerationRequest r2{prompt, sampled(5, 40)};
  r2.params.stop_strings = {stop};
  std::string streamed2;
  r2.on_event = [&](const StreamEvent& e) {
    streamed2.append(e.text);
    return true;
  };
  auto id2 = eng.add(r2);
  eng.run_until_done();
  auto res2 = eng.take_result(id2);
  EXPECT_EQ(res2.finish, FinishReason::stop_string);
  EXPECT_EQ(res2.text, res.text.substr(0, at));
  EXPECT_EQ(streamed2, res2.text);
}

// A character split across tokens is held back until it is complete.
TEST(TokenTextStream, HoldsBackSplitUtf8Characters) {
  const Tokenizer& tok = small_tokenizer();
  auto e = tok.encode("\xc3\xa9\xe2\x82\xac");  // "é€": unseen in training, so single bytes
  ASSERT_EQ(e.size(), 5u);
  TokenTextStream ts(&tok, {});
  EXPECT_EQ(ts.push(e[0]), "");
  EXPECT_EQ(ts.push(e[1]), "\xc3\xa9");
  EXPECT_EQ(ts.push(e[2]), "");
  EXPECT_EQ(ts.push(e[3]), "");
  EXPECT_EQ(ts.push(e[4]), "\xe2\x82\xac");
  // An unfinished character at the end is flushed as it is.
  TokenTextStream t2(&tok, {});
  EXPECT_EQ(t2.push(e[2]), "");
  EXPECT_EQ(t2.finish(), "\xe2");
  EXPECT_EQ(utf8_incomplete_tail("a\xf0\x9f", 3), 2u);
  EXPECT_EQ(utf8_incomplete_tail("a\x80", 2), 0u);
}
