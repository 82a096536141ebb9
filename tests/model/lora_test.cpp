// LoRA adapters (model/lora.h) on the transformer: the adapted model and its
// gradients against PyTorch autograd (tests/oracle/lora_ref.py), what a
// fresh, merged, saved or corrupt adapter does, mixed adapters in one cached
// batch, and dropout only in training mode.
//
// Relative error = max |ours - ref| / max |ref| over a tensor.
//  f32 against the oracle: logits 1e-4, gradients 1e-3 (as the model's own
//    oracle test; measured ~1e-6).
//  bf16 compute against the same f32 oracle: logits 2e-2, gradients 3e-2
//    (the base GEMMs round their inputs to bf16; the LoRA path stays f32).
//  merged vs adapted, cached vs full forward, one batch vs alone (f32):
//    1e-5 (the same sums in another order; measured ~1e-7).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_io.h"
#include "core/random.h"
#include "core/safetensors.h"
#include "model/kv_cache.h"
#include "model/linear_head.h"
#include "model/lora.h"
#include "model/model_io.h"
#include "model/model_test_util.h"
#include "model/transformer.h"

namespace fs = std::filesystem;
using namespace shog;

namespace {

const std::vector<LoraTarget> kAll = {LoraTarget::q,    LoraTarget::k,  LoraTarget::v,   LoraTarget::o,
                                      LoraTarget::gate, LoraTarget::up, LoraTarget::down};

using test::random_tokens;
using test::rel_err;

std::string scratch_dir(const std::string& name) {
  std::string d = fmt::format("{}/lora_test_{}_{}", SHOG_BINARY_DIR, name, ::getpid());
  fs::remove_all(d);
  make_dirs(d);
  return d;
}

ModelConfig tiny() { return model_preset("tiny"); }  // 2 layers, 4 query heads, 2 kv heads

std::unique_ptr<Transformer> make_model(DType dt = DType::f32) {
  auto m = std::make_unique<Transformer>(tiny(), dt);
  m->init_weights(5, 0.08f);  // larger than the default so logits are not all ~0
  return m;
}

// An adapter whose B is not zero, so that it changes the model.
LoraAdapter trained_adapter(std::vector<LoraTarget> targets, int64_t rank, uint64_t seed, float dropout = 0) {
  LoraConfig c;
  c.rank = rank, c.alpha = 2.0f * float(rank), c.dropout = dropout, c.targets = std::move(targets);
  LoraAdapter a(tiny(), c);
  a.init(seed);
  Rng rng(seed + 100);
  for (auto& e : a.table().entries())
    if (e.name.ends_with("lora_B.weight"))
      for (int64_t i = 0; i < e.numel; ++i) a.params()[e.offset + i] = float(rng.normal()) * 0.05f;
  return a;
}

std::vector<float> logits_of(Transformer& m, const std::vector<int32_t>& toks, int64_t B, int64_t T) {
  m.forward(toks.data(), B, T);
  std::vector<float> out(size_t(B * T * m.config().vocab));
  m.logits(out.data());
  return out;
}

}  // namespace

TEST(Lora, TargetNamesParseBothWays) {
  for (LoraTarget t : kAll) {
    EXPECT_EQ(parse_lora_target(lora_target_name(t)), t);
    std::string s = lora_target_name(t);
    EXPECT_EQ(parse_lora_target(s.substr(0, s.size() - 5)), t);
  }
  EXPECT_THROW(parse_lora_target("lm_head"), Error);
  LoraConfig c;
  c.rank = 0;
  EXPECT_THROW(LoraAdapter(tiny(), c), Error);
}

// The PEFT layout: one A [r, in] and B [out, r] per layer and target, named
// as PEFT saves them, in model order whatever order the targets were given.
TEST(Lora, TableHasPeftNamesAndShapes) {
  LoraConfig c;
  c.rank = 4;
  c.targets = {LoraTarget::down, LoraTarget::q, LoraTarget::v, LoraTarget::q};
  LoraAdapter a(tiny(), c);
  ASSERT_EQ(a.config().targets, (std::vector<LoraTarget>{LoraTarget::q, LoraTarget::v, LoraTarget::down}));
  const auto& e = a.table().entries();
  ASSERT_EQ(e.size(), size_t(2 * 3 * 2));
  EXPECT_EQ(e[0].name, "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
  EXPECT_EQ(e[0].shape, Shape({4, 64}));
  EXPECT_EQ(e[1].name, "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight");
  EXPECT_EQ(e[1].shape, Shape({64, 4}));
  EXPECT_EQ(e[3].shape, Shape({32, 4}));  // v_proj: 2 kv heads of 16
  EXPECT_EQ(e[4].name, "base_model.model.model.layers.0.mlp.down_proj.lora_A.weight");
  EXPECT_EQ(e[4].shape, Shape({4, 176}));
  EXPECT_EQ(e[11].name, "base_model.model.model.layers.1.mlp.down_proj.lora_B.weight");
  EXPECT_EQ(a.table().total(), e.back().offset + e.back().numel);
  EXPECT_EQ(a.weights(1, LoraTarget::k).a, nullptr);
  EXPECT_EQ(a.weights(1, LoraTarget::v).out, 32);
}

// All seven targets with a non-zero B, plus a linear head, against PyTorch
// autograd: logits, the loss, dL/dA and dL/dB of every adapter tensor, the
// head's output, its W and b gradients and its gradient on the hidden states.
// The same oracle output also checks bf16 compute (looser: see the top).
TEST(LoraOracle, AdapterAndHeadMatchPyTorch) {
  const ModelConfig cfg = tiny();
  const int64_t B = 2, T = 16, N = B * T, V = cfg.vocab, C = cfg.d_model, n_out = 3;
  auto base = make_model();
  LoraAdapter ad = trained_adapter(kAll, 4, 1);
  LinearHead head(C, n_out);
  head.init(3, 0.1f);
  for (int64_t o = 0; o < n_out; ++o) head.params()[n_out * C + o] = 0.1f * float(o + 1);
  auto inputs = random_tokens(N, V, 11);
  std::vector<int32_t> targets = random_tokens(N, V, 12);
  targets[5] = -1;
  std::vector<float> weights(size_t(N), 1.0f / float(N - 1));
  weights[5] = 0;
  const std::vector<int64_t> rows = {3, 15, 16, 31, 7};  // last tokens and a repeat-free mix
  const std::vector<int32_t> rows32(rows.begin(), rows.end());
  const int64_t R = int64_t(rows.size());
  std::vector<float> dout(size_t(R * n_out));
  Rng rng(13);
  for (auto& g : dout) g = float(rng.normal()) * 0.5f;

  const std::string dir = scratch_dir("oracle");
  save_model_weights(dir, *base);
  ad.save(dir + "/adapter");
  head.save(dir + "/head.safetensors");
  write_safetensors(dir + "/batch.safetensors", {{"inputs", StDType::i32, {B, T}, inputs.data()},
                                                 {"targets", StDType::i32, {B, T}, targets.data()},
                                                 {"weights", StDType::f32, {B, T}, weights.data()},
                                                 {"head_rows", StDType::i32, {R}, rows32.data()},
                                                 {"head_dout", StDType::f32, {R, n_out}, dout.data()}});
  std::string cmd = fmt::format(
      "/usr/bin/python3 {}/tests/oracle/lora_ref.py --model {d} --adapter {d}/adapter --batch {d}/batch.safetensors "
      "--head {d}/head.safetensors --out {d}/out.safetensors",
      SHOG_SOURCE_DIR, fmt::arg("d", dir));
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  SafetensorsFile ref(dir + "/out.safetensors");

  for (DType dt : {DType::f32, DType::bf16}) {
    SCOPED_TRACE(std::string(dtype_name(dt)));
    const bool half = dt == DType::bf16;
    const double tol_logits = half ? 2e-2 : 1e-4, tol_grad = half ? 3e-2 : 1e-3;
    Transformer& m = *base;
    m.set_compute_dtype(dt);
    m.attach_lora(&ad);
    m.zero_grad();
    ad.zero_grad();
    head.zero_grad();
    auto logits = logits_of(m, inputs, B, T);
    const double e_logits = rel_err(logits.data(), ref.to_f32("logits").data(), N * V);
    EXPECT_LT(e_logits, tol_logits) << "logits";
    double worst_grad = 0;

    std::vector<float> hout(size_t(R * n_out));
    head.forward(m.hidden(), rows, hout.data());
    EXPECT_LT(rel_err(hout.data(), ref.to_f32("head_out").data(), R * n_out), tol_logits) << "head output";
    head.backward(m.hidden(), rows, dout.data(), m.hidden_grad());
    EXPECT_LT(rel_err(m.hidden_grad(), ref.to_f32("hidden_grad_head").data(), N * C), tol_grad) << "hidden grad";
    double loss = m.cross_entropy_backward(targets.data(), weights.data());
    EXPECT_NEAR(loss, ref.to_f32("loss")[0], (half ? 1e-2 : 1e-5) * std::fabs(ref.to_f32("loss")[0]));

    for (auto& e : ad.table().entries()) {
      auto g = ref.to_f32("grad." + e.name);
      ASSERT_EQ(int64_t(g.size()), e.numel) << e.name;
      const double err = rel_err(ad.grads() + e.offset, g.data(), e.numel);
      worst_grad = std::max(worst_grad, err);
      EXPECT_LT(err, tol_grad) << "grad of " << e.name;
    }
    for (auto& e : head.table().entries()) {
      auto g = ref.to_f32("grad." + e.name);
      const double err = rel_err(head.grads() + e.offset, g.data(), e.numel);
      worst_grad = std::max(worst_grad, err);
      EXPECT_LT(err, tol_grad) << "grad of " << e.name;
    }
    std::printf("%s: logits rel err %.2e, worst gradient rel err %.2e\n", std::string(dtype_name(dt)).c_str(),
                e_logits, worst_grad);
    // The base is frozen while an adapter is attached.
    for (int64_t i = 0; i < m.num_floats(); ++i) ASSERT_EQ(m.grads()[i], 0.0f) << "base gradient at " << i;
    m.attach_lora(nullptr);
  }
  fs::remove_all(dir);
}

// PEFT starts B at zero: attaching a fresh adapter changes nothing, exactly,
// in the training forward and in cached decoding.
TEST(Lora, FreshAdapterLeavesLogitsUnchanged) {
  auto m = make_model();
  LoraConfig c;
  c.targets = kAll;
  LoraAdapter ad(tiny(), c);
  ad.init(9);
  auto toks = random_tokens(24, tiny().vocab, 2);
  auto plain = logits_of(*m, toks, 2, 12);
  m->attach_lora(&ad);
  auto adapted = logits_of(*m, toks, 2, 12);
  for (size_t i = 0; i < plain.size(); ++i) ASSERT_EQ(plain[i], adapted[i]) << i;

  KvBlockPool kv(m->config(), 8, 16);
  auto s1 = kv.create_sequence(), s2 = kv.create_sequence();
  std::vector<Transformer::CachedTokens> batch = {{s1, {toks.data(), 12}, true, nullptr},
                                                  {s2, {toks.data(), 12}, true, &ad}};
  std::vector<float> out(size_t(24 * tiny().vocab));
  m->forward_cached(kv, batch, out.data());
  const size_t half = out.size() / 2;
  for (size_t i = 0; i < half; ++i) ASSERT_EQ(out[i], out[half + i]) << i;
}

// W += (alpha/r) B A for every target gives the adapted model's logits.
TEST(Lora, MergedModelEqualsAdaptedModel) {
  auto m = make_model();
  LoraAdapter ad = trained_adapter(kAll, 8, 4);
  auto toks = random_tokens(32, tiny().vocab, 3);
  m->attach_lora(&ad);
  auto adapted = logits_of(*m, toks, 2, 16);
  auto plain_model = make_model();
  auto plain = logits_of(*plain_model, toks, 2, 16);

  Transformer merged(tiny());
  std::copy(m->params(), m->params() + m->num_floats(), merged.params());
  ad.merge_into(merged.table(), merged.params());
  merged.sync_compute_weights();
  auto got = logits_of(merged, toks, 2, 16);
  const int64_t n = int64_t(got.size());
  EXPECT_LT(rel_err(got.data(), adapted.data(), n), 1e-5);
  std::printf("merged vs adapted: rel err %.2e\n", rel_err(got.data(), adapted.data(), n));
  EXPECT_GT(rel_err(plain.data(), adapted.data(), n), 1e-2) << "the adapter should change the logits";
}

// With an adapter attached the base gets no gradient at all (and its
// gradient block is not even written); detached, it trains again.
TEST(Lora, BaseGetsNoGradientWhileAnAdapterIsAttached) {
  auto m = make_model();
  LoraAdapter ad = trained_adapter({LoraTarget::q, LoraTarget::v, LoraTarget::down}, 4, 6);
  auto toks = random_tokens(16, tiny().vocab, 7), tg = random_tokens(16, tiny().vocab, 8);
  std::vector<float> w(16, 1.0f / 16);
  std::fill(m->grads(), m->grads() + m->num_floats(), 0.5f);  // untouched means still 0.5
  ad.zero_grad();
  m->attach_lora(&ad);
  m->forward(toks.data(), 1, 16);
  m->cross_entropy_backward(tg.data(), w.data());
  for (int64_t i = 0; i < m->num_floats(); ++i) ASSERT_EQ(m->grads()[i], 0.5f) << i;
  double norm = 0;
  for (int64_t i = 0; i < ad.num_floats(); ++i) norm += double(ad.grads()[i]) * ad.grads()[i];
  EXPECT_GT(norm, 0);

  m->attach_lora(nullptr);
  m->zero_grad();
  m->forward(toks.data(), 1, 16);
  m->cross_entropy_backward(tg.data(), w.data());
  double base_norm = 0;
  for (int64_t i = 0; i < m->num_floats(); ++i) base_norm += double(m->grads()[i]) * m->grads()[i];
  EXPECT_GT(base_norm, 0);

  // Attaching between forward and backward is a bug in the caller.
  m->forward(toks.data(), 1, 16);
  m->attach_lora(&ad);
  EXPECT_THROW(m->cross_entropy_backward(tg.data(), w.data()), Error);
}

TEST(Lora, AdapterForAnotherShapeIsRefused) {
  auto m = make_model();
  ModelConfig other = tiny();
  other.ffn_hidden = 128;
  LoraAdapter ad(other, LoraConfig{});
  EXPECT_THROW(m->attach_lora(&ad), Error);
}

TEST(Lora, SaveLoadRoundTripIsExactAndPeftShaped) {
  LoraAdapter ad = trained_adapter({LoraTarget::k, LoraTarget::o, LoraTarget::up}, 3, 8, 0.05f);
  LoraConfig c = ad.config();
  const std::string dir = scratch_dir("roundtrip");
  LoraAdapter named(tiny(), [&] {
    LoraConfig n = c;
    n.base_model_name_or_path = "runs/base/step_000100";
    return n;
  }());
  std::copy(ad.params(), ad.params() + ad.num_floats(), named.params());
  named.save(dir);

  LoraAdapter back = LoraAdapter::load(dir, tiny());
  EXPECT_EQ(back.config().rank, 3);
  EXPECT_EQ(back.config().alpha, c.alpha);
  EXPECT_EQ(back.config().dropout, c.dropout);
  EXPECT_EQ(back.config().targets, c.targets);
  EXPECT_EQ(back.config().base_model_name_or_path, "runs/base/step_000100");
  ASSERT_EQ(back.num_floats(), ad.num_floats());
  for (int64_t i = 0; i < ad.num_floats(); ++i) ASSERT_EQ(back.params()[i], ad.params()[i]) << i;

  auto j = nlohmann::json::parse(read_file(dir + "/adapter_config.json"));
  EXPECT_EQ(j["peft_type"], "LORA");
  EXPECT_EQ(j["task_type"], "CAUSAL_LM");
  EXPECT_EQ(j["r"], 3);
  EXPECT_EQ(j["bias"], "none");
  EXPECT_EQ(j["target_modules"], nlohmann::json({"k_proj", "o_proj", "up_proj"}));
  SafetensorsFile f(dir + "/adapter_model.safetensors");
  EXPECT_EQ(f.entries().size(), size_t(2 * 3 * 2));
  EXPECT_EQ(f.at("base_model.model.model.layers.1.mlp.up_proj.lora_B.weight").shape, Shape({176, 3}));

  // A deep copy does not share the blocks.
  LoraAdapter copy = back;
  copy.params()[0] += 1;
  EXPECT_NE(copy.params()[0], back.params()[0]);
  fs::remove_all(dir);
}

// A bad adapter file is an error that names the file and the tensor (or key).
TEST(Lora, CorruptAdapterNamesFileAndTensor) {
  LoraAdapter ad = trained_adapter({LoraTarget::q, LoraTarget::v}, 4, 2);
  const std::string dir = scratch_dir("corrupt");
  ad.save(dir);
  const std::string st = dir + "/adapter_model.safetensors";
  auto expect_error = [&](const std::string& where, const std::string& what_part) {
    try {
      LoraAdapter::load(dir, tiny());
      ADD_FAILURE() << "no error for " << what_part;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::bad_input) << e.what();
      EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what_part), std::string::npos) << e.what();
    }
  };
  auto rewrite = [&](auto edit) {
    auto tensors = param_block_tensors(ad.table(), ad.params(), "");
    edit(tensors);
    write_safetensors(st, tensors);
  };
  const std::string vb = "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight";
  std::vector<float> big(size_t(32 * 5), 0.0f);
  rewrite([&](auto& ts) {  // wrong rank for one tensor
    for (auto& t : ts)
      if (t.name == vb) t.shape = {32, 5}, t.data = big.data();
  });
  expect_error(st, vb);
  rewrite([&](auto& ts) { std::erase_if(ts, [&](auto& t) { return t.name == vb; }); });
  expect_error(st, vb);
  const std::string extra = "base_model.model.model.layers.2.self_attn.q_proj.lora_A.weight";
  rewrite([&](auto& ts) { ts.push_back({extra, StDType::f32, {4, 64}, big.data()}); });
  expect_error(st, extra);
  std::vector<float> nan(ad.params(), ad.params() + ad.num_floats());
  nan[size_t(ad.table().entries()[2].offset + 1)] = NAN;
  write_safetensors(st, param_block_tensors(ad.table(), nan.data(), ""));
  expect_error(st, ad.table().entries()[2].name);
  // Truncated: the safetensors reader names the file and the tensor whose
  // bytes run past the end.
  ad.save(dir);
  std::string bytes = read_file(st);
  write_file_atomic(st, bytes.substr(0, bytes.size() - 16));
  expect_error(st, "lora_");

  ad.save(dir);
  write_file_atomic(dir + "/adapter_config.json", R"({"peft_type": "LORA", "r": "four", "lora_alpha": 8,
                                                      "target_modules": ["q_proj"]})");
  expect_error(dir + "/adapter_config.json: key r", "integer");
  write_file_atomic(dir + "/adapter_config.json", R"({"peft_type": "LORA", "r": 4, "lora_alpha": 8,
                                                      "target_modules": ["q_proj"], "use_dora": true})");
  EXPECT_THROW(LoraAdapter::load(dir, tiny()), Error);
  fs::remove_all(dir);
}

// One cached batch mixing two adapters (one of them on non-adjacent rows)
// and none gives every sequence the logits it gets alone, which equal the
// training forward's with that adapter attached.
TEST(Lora, ForwardCachedMixesAdaptersInOneBatch) {
  auto mp = make_model();
  Transformer& m = *mp;
  const int64_t V = tiny().vocab, steps = 4;
  LoraAdapter x = trained_adapter(kAll, 4, 21), y = trained_adapter({LoraTarget::q, LoraTarget::down}, 2, 22);
  const std::vector<const LoraAdapter*> which = {&x, nullptr, &y, &x};
  const std::vector<int64_t> lens = {7, 5, 9, 3};
  std::vector<std::vector<int32_t>> toks;
  for (size_t i = 0; i < lens.size(); ++i) toks.push_back(random_tokens(lens[i] + steps, V, 30 + i));

  KvBlockPool kv(m.config(), 32, 8);
  std::vector<KvSeqId> ids;
  for (size_t i = 0; i < lens.size(); ++i) ids.push_back(kv.create_sequence());
  std::vector<std::vector<float>> batched(lens.size());
  for (int64_t k = 0; k <= steps; ++k) {
    std::vector<Transformer::CachedTokens> b;
    for (size_t i = 0; i < lens.size(); ++i) {
      const int64_t begin = k == 0 ? 0 : lens[i] + k - 1, n = k == 0 ? lens[i] : 1;
      b.push_back({ids[i], {toks[i].data() + begin, size_t(n)}, k == 0, which[i]});
    }
    std::vector<float> out(size_t(Transformer::cached_logit_rows(b) * V));
    m.forward_cached(kv, b, out.data());
    int64_t r = 0;
    for (size_t i = 0; i < lens.size(); ++i) {
      const int64_t rows = k == 0 ? lens[i] : 1;
      batched[i].insert(batched[i].end(), out.begin() + r * V, out.begin() + (r + rows) * V);
      r += rows;
    }
  }
  for (size_t i = 0; i < lens.size(); ++i) {
    SCOPED_TRACE(fmt::format("sequence {}", i));
    KvBlockPool alone(m.config(), 16, 8);
    auto s = alone.create_sequence();
    std::vector<float> got;
    for (int64_t k = 0; k <= steps; ++k) {
      const int64_t begin = k == 0 ? 0 : lens[i] + k - 1, n = k == 0 ? lens[i] : 1;
      Transformer::CachedTokens e{s, {toks[i].data() + begin, size_t(n)}, k == 0, which[i]};
      std::vector<float> out(size_t((k == 0 ? n : 1) * V));
      m.forward_cached(alone, {&e, 1}, out.data());
      got.insert(got.end(), out.begin(), out.end());
    }
    ASSERT_EQ(got.size(), batched[i].size());
    EXPECT_LT(rel_err(batched[i].data(), got.data(), int64_t(got.size())), 1e-5);
    std::printf("sequence %zu: batch vs alone %.2e", i, rel_err(batched[i].data(), got.data(), int64_t(got.size())));
    // The training forward over the whole sequence, adapter attached.
    m.attach_lora(const_cast<LoraAdapter*>(which[i]));
    auto full = logits_of(m, toks[i], 1, lens[i] + steps);
    m.attach_lora(nullptr);
    full.resize(size_t((lens[i] + steps - 1) * V));  // the last token's logits were never asked for
    EXPECT_LT(rel_err(got.data(), full.data(), int64_t(full.size())), 1e-5);
    std::printf(", cached vs full %.2e\n", rel_err(got.data(), full.data(), int64_t(full.size())));
  }
  // The adapters did make a difference.
  KvBlockPool kv2(m.config(), 8, 8);
  auto s = kv2.create_sequence();
  Transformer::CachedTokens e{s, {toks[0].data(), size_t(lens[0])}, true, nullptr};
  std::vector<float> plain(size_t(lens[0] * V));
  m.forward_cached(kv2, {&e, 1}, plain.data());
  EXPECT_GT(rel_err(plain.data(), batched[0].data(), lens[0] * V), 1e-2);
}

// In bf16 compute the cached path with an adapter stays within the bf16
// tolerance of the training forward (2e-2, as transformer_decode_test.cpp).
TEST(Lora, ForwardCachedWithAdapterMatchesFullForwardInBf16) {
  auto m = make_model(DType::bf16);
  LoraAdapter ad = trained_adapter(kAll, 4, 50);
  const int64_t V = tiny().vocab, P = 20;
  auto toks = random_tokens(P, V, 51);
  KvBlockPool kv(m->config(), 8, 16);
  auto s = kv.create_sequence();
  Transformer::CachedTokens e{s, {toks.data(), size_t(P)}, true, &ad};
  std::vector<float> got(size_t(P * V));
  m->forward_cached(kv, {&e, 1}, got.data());
  m->attach_lora(&ad);
  auto full = logits_of(*m, toks, 1, P);
  for (int64_t t = 0; t < P; ++t)
    EXPECT_LT(rel_err(got.data() + t * V, full.data() + t * V, V), 2e-2) << "position " << t;
}

// Dropout acts only in training mode, only on the LoRA path, and the
// backward uses the forward's mask: the gradient predicts the change of the
// loss along it when the masks are replayed from the same seed.
TEST(Lora, DropoutOnlyInTrainingAndBackwardUsesTheSameMask) {
  auto m = make_model();
  LoraAdapter with = trained_adapter(kAll, 4, 40, 0.3f);
  LoraAdapter without = trained_adapter(kAll, 4, 40, 0.0f);  // the same weights, no dropout
  auto toks = random_tokens(32, tiny().vocab, 41), tg = random_tokens(32, tiny().vocab, 42);
  std::vector<float> w(32, 1.0f / 32);

  m->attach_lora(&without);
  auto ref = logits_of(*m, toks, 2, 16);
  m->set_training(true);
  auto ref_train = logits_of(*m, toks, 2, 16);
  EXPECT_EQ(ref, ref_train) << "dropout 0 in training mode is the identity";
  m->set_training(false);
  m->attach_lora(&with);
  auto eval = logits_of(*m, toks, 2, 16);
  EXPECT_EQ(ref, eval) << "no dropout outside training mode";
  m->set_training(true);
  auto t1 = logits_of(*m, toks, 2, 16), t2 = logits_of(*m, toks, 2, 16);
  EXPECT_GT(rel_err(t1.data(), ref.data(), int64_t(ref.size())), 1e-3);
  EXPECT_GT(rel_err(t2.data(), t1.data(), int64_t(ref.size())), 1e-3) << "each training forward draws new masks";
  m->set_dropout_seed(77);
  auto r1 = logits_of(*m, toks, 2, 16);
  m->set_dropout_seed(77);
  auto r2 = logits_of(*m, toks, 2, 16);
  EXPECT_EQ(r1, r2) << "the same seed replays the same masks";

  // Directional derivative along the gradient g: (L(p + eps g) - L(p - eps g)) / 2 eps = |g|^2.
  auto loss_at = [&](float eps, const std::vector<float>& g) {
    std::vector<float> p0(with.params(), with.params() + with.num_floats());
    for (int64_t i = 0; i < with.num_floats(); ++i) with.params()[i] += eps * g[size_t(i)];
    m->set_dropout_seed(5);
    m->forward(toks.data(), 2, 16);
    std::vector<float> logp(32);
    m->token_logprobs(tg.data(), logp.data());
    std::copy(p0.begin(), p0.end(), with.params());
    double l = 0;
    for (int i = 0; i < 32; ++i) l -= double(w[size_t(i)]) * logp[size_t(i)];
    return l;
  };
  with.zero_grad();
  m->set_dropout_seed(5);
  m->forward(toks.data(), 2, 16);
  m->set_training(false);  // the mode at backward time does not matter: the forward's masks are kept
  m->cross_entropy_backward(tg.data(), w.data());
  m->set_training(true);
  std::vector<float> g(with.grads(), with.grads() + with.num_floats());
  double gg = 0;
  for (float v : g) gg += double(v) * v;
  const float eps = float(1e-2 / std::sqrt(gg));
  const double fd = (loss_at(eps, g) - loss_at(-eps, g)) / (2 * eps);
  EXPECT_NEAR(fd, gg, 1e-2 * gg);  // measured ~1.5e-4 relative
  std::printf("dropout: directional derivative %.6g, |g|^2 %.6g\n", fd, gg);
}
