// GGUF export/import of a llama model: the exported file passes our reader's
// validation and carries llama.cpp's metadata keys and tensor names; import
// restores the weights exactly (f32) or within rounding (f16, bf16) and the
// tokenizer exactly; the q/k row order implements the same attention as HF's
// rotate-half RoPE; corrupt files are clear errors.
#include "interop/gguf_llama.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/file_io.h"
#include "interop/interop_test_util.h"
#include "interop/hf_model.h"
#include "interop/llama_rope.h"
#include "model/parameters.h"
#include "tokenizer/byte_level.h"

namespace shog {
namespace {

TEST(GgufLlama, ExportCarriesLlamaCppMetadataAndNames) {
  ModelDir m = test::random_model(false);
  const std::string dir = test::temp_dir("meta"), path = dir + "/m.gguf";
  export_gguf(m, path, WeightDType::bf16);
  GgufFile f(path);
  EXPECT_EQ(f.get_str("general.architecture"), "llama");
  EXPECT_EQ(f.get_uint("llama.block_count"), 2u);
  EXPECT_EQ(f.get_uint("llama.embedding_length"), 32u);
  EXPECT_EQ(f.get_uint("llama.feed_forward_length"), 48u);
  EXPECT_EQ(f.get_uint("llama.attention.head_count"), 4u);
  EXPECT_EQ(f.get_uint("llama.attention.head_count_kv"), 2u);
  EXPECT_EQ(f.get_uint("llama.rope.dimension_count"), 8u);
  EXPECT_EQ(f.get_uint("llama.context_length"), 64u);
  EXPECT_EQ(f.get_float("llama.rope.freq_base"), 5000.0);
  EXPECT_FLOAT_EQ(float(f.get_float("llama.attention.layer_norm_rms_epsilon")), 1e-6f);
  EXPECT_EQ(f.get_str("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f.get_str("tokenizer.ggml.pre"), "dbrx");  // cl100k regex, merges honoured
  const auto tokens = f.get_strs("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 320u);  // one per embedding row
  EXPECT_EQ(tokens[' '], "Ġ");
  EXPECT_EQ(tokens[m.tokenizer->vocab_size()], fmt::format("[PAD{}]", m.tokenizer->vocab_size()));
  const auto types = f.get_ints("tokenizer.ggml.token_type");
  EXPECT_EQ(types[0], 1);
  const int32_t bos = *m.tokenizer->special_id("<|bos|>");
  EXPECT_EQ(tokens[bos], "<|bos|>");
  EXPECT_EQ(types[bos], 3);
  EXPECT_EQ(types.back(), 5);
  EXPECT_EQ(f.get_uint("tokenizer.ggml.bos_token_id"), uint64_t(bos));
  EXPECT_EQ(f.get_uint("tokenizer.ggml.eos_token_id"), uint64_t(*m.tokenizer->special_id("<|eos|>")));
  EXPECT_EQ(f.get_strs("tokenizer.ggml.merges").size(), m.tokenizer->model().merges().size());
  for (const char* n : {"token_embd.weight", "blk.0.attn_norm.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight",
                        "blk.0.attn_v.weight", "blk.0.attn_output.weight", "blk.1.ffn_norm.weight",
                        "blk.1.ffn_gate.weight", "blk.1.ffn_up.weight", "blk.1.ffn_down.weight",
                        "output_norm.weight", "output.weight"})
    EXPECT_TRUE(f.has_tensor(n)) << n;
  EXPECT_EQ(f.tensors().size(), 1 + 2 * 9 + 2u);
  EXPECT_EQ(f.tensor("blk.0.attn_norm.weight").type, GgmlType::f32);  // norms stay f32
  EXPECT_EQ(f.tensor("blk.0.attn_q.weight").type, GgmlType::bf16);
  EXPECT_EQ(f.tensor("blk.0.attn_k.weight").shape, (Shape{16, 32}));
  std::filesystem::remove_all(dir);
}

void expect_same_tokenizer(const Tokenizer& a, const Tokenizer& b) {
  EXPECT_EQ(a.vocab_size(), b.vocab_size());
  EXPECT_EQ(a.pattern(), b.pattern());
  EXPECT_EQ(a.model().merges(), b.model().merges());
  const std::string t = test::sample_text() + "<|bos|>x<|eos|>";
  EXPECT_EQ(a.encode(t), b.encode(t));
  EXPECT_EQ(a.encode_with_special(t), b.encode_with_special(t));
}

TEST(GgufLlama, F32RoundTripIsExact) {
  for (bool tied : {false, true}) {
    ModelDir m = test::random_model(tied);
    const std::string dir = test::temp_dir("f32"), path = dir + "/m.gguf";
    export_gguf(m, path, WeightDType::f32);
    EXPECT_EQ(GgufFile(path).has_tensor("output.weight"), !tied);
    ModelDir r = import_gguf(path);
    EXPECT_EQ(r.config.tie_embeddings, tied);
    EXPECT_EQ(r.config.n_kv_head, 2);
    EXPECT_EQ(r.config.rope_theta, 5000.0f);
    EXPECT_EQ(r.config.vocab, 320);
    EXPECT_EQ(r.params, m.params);
    ASSERT_TRUE(r.tokenizer);
    expect_same_tokenizer(*m.tokenizer, *r.tokenizer);
    std::filesystem::remove_all(dir);
  }
}

TEST(GgufLlama, HalfRoundTripsWithinRounding) {
  ModelDir m = test::random_model(false);
  ParamTable t(m.config);
  for (WeightDType dt : {WeightDType::f16, WeightDType::bf16}) {
    const std::string dir = test::temp_dir("half"), path = dir + "/m.gguf";
    export_gguf(m, path, dt);
    ModelDir r = import_gguf(path);
    // Relative error of one rounding: 2^-11 (f16), 2^-8 (bf16); norms exact.
    const float rel = dt == WeightDType::f16 ? 1.0f / 2048 : 1.0f / 256;
    for (const auto& e : t.entries())
      for (int64_t i = 0; i < e.numel; ++i) {
        const float a = m.params[e.offset + i], b = r.params[e.offset + i];
        if (e.shape.size() == 1) ASSERT_EQ(a, b) << e.name;
        ASSERT_LE(std::fabs(a - b), rel * std::fabs(a) + 1e-7f) << e.name << "[" << i << "]";
      }
    std::filesystem::remove_all(dir);
  }
}

// HF: pair (i, i + d/2) rotated by angle pos * theta^(-2i/d).
void rope_hf(float* x, int64_t d, int pos, float theta) {
  for (int64_t i = 0; i < d / 2; ++i) {
    const float a = pos * std::pow(theta, -2.0f * i / d), c = std::cos(a), s = std::sin(a);
    const float x0 = x[i], x1 = x[i + d / 2];
    x[i] = x0 * c - x1 * s;
    x[i + d / 2] = x0 * s + x1 * c;
  }
}
// ggml LLAMA ("normal") rope: pair (2i, 2i + 1), same angle.
void rope_ggml(float* x, int64_t d, int pos, float theta) {
  for (int64_t i = 0; i < d / 2; ++i) {
    const float a = pos * std::pow(theta, -2.0f * i / d), c = std::cos(a), s = std::sin(a);
    const float x0 = x[2 * i], x1 = x[2 * i + 1];
    x[2 * i] = x0 * c - x1 * s;
    x[2 * i + 1] = x0 * s + x1 * c;
  }
}

TEST(GgufLlama, PermutedRowsGiveTheSameAttentionScores) {
  const int64_t H = 2, d = 8, C = 5;
  std::vector<float> wq(H * d * C), wk(H * d * C), x(C), y(C);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd;
  for (auto* v : {&wq, &wk, &x, &y})
    for (auto& e : *v) e = nd(rng);
  std::vector<float> pq(wq.size()), pk(wk.size()), back(wq.size());
  hf_to_ggml_rope_rows(wq.data(), pq.data(), H, d, C);
  hf_to_ggml_rope_rows(wk.data(), pk.data(), H, d, C);
  ggml_to_hf_rope_rows(pq.data(), back.data(), H, d, C);
  EXPECT_EQ(back, wq);
  auto matvec = [&](const std::vector<float>& w, const std::vector<float>& v) {
    std::vector<float> out(H * d, 0.0f);
    for (int64_t r = 0; r < H * d; ++r)
      for (int64_t c = 0; c < C; ++c) out[r] += w[r * C + c] * v[c];
    return out;
  };
  for (int pq_pos : {0, 3, 17})
    for (int pk_pos : {0, 5}) {
      auto q1 = matvec(wq, x), k1 = matvec(wk, y), q2 = matvec(pq, x), k2 = matvec(pk, y);
      for (int64_t h = 0; h < H; ++h) {
        rope_hf(&q1[h * d], d, pq_pos, 10000.0f);
        rope_hf(&k1[h * d], d, pk_pos, 10000.0f);
        rope_ggml(&q2[h * d], d, pq_pos, 10000.0f);
        rope_ggml(&k2[h * d], d, pk_pos, 10000.0f);
        float s1 = 0, s2 = 0;
        for (int64_t i = 0; i < d; ++i) s1 += q1[h * d + i] * k1[h * d + i], s2 += q2[h * d + i] * k2[h * d + i];
        EXPECT_NEAR(s1, s2, 1e-4f * (1 + std::fabs(s1)));
      }
    }
}

TEST(GgufLlama, ImportErrorsNameTheFileAndField) {
  ModelDir m = test::random_model(false);
  const std::string dir = test::temp_dir("bad"), path = dir + "/m.gguf";
  export_gguf(m, path, WeightDType::f32);
  const std::string good = read_file(path);
  auto expect = [&](const std::string& bytes, const std::string& field, ErrorKind kind = ErrorKind::bad_input) {
    write_file_atomic(path, bytes);
    try {
      import_gguf(path);
      ADD_FAILURE() << "no error for " << field;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << field << " not in: " << e.what();
    }
  };
  expect(good.substr(0, good.size() / 2), "offset");  // truncated
  // Header: a key length far beyond the file.
  std::string h = good;
  const uint64_t huge = 1ull << 40;
  std::memcpy(h.data() + 24, &huge, 8);
  expect(h, "metadata key 0");
  // A wrong dtype on a tensor: F32 relabelled I32 (same size) cannot be read as weights.
  std::string w = good;
  const std::string tname = "blk.0.attn_v.weight";
  size_t p = w.find(tname) + tname.size() + 4 + 16;  // n_dims, then two dims, then type
  const uint32_t i32 = 26;
  std::memcpy(w.data() + p, &i32, 4);
  expect(w, "tensor 'blk.0.attn_v.weight'", ErrorKind::unsupported);
  // A shape that disagrees with the metadata: attn_v [16, 32] -> dims swapped.
  std::string s = good;
  p = s.find(tname) + tname.size() + 4;
  uint64_t d0 = 16, d1 = 32;
  std::memcpy(s.data() + p, &d0, 8);
  std::memcpy(s.data() + p + 8, &d1, 8);
  expect(s, "tensor 'blk.0.attn_v.weight'");
  // Metadata of the wrong type.
  std::string t = good;
  p = t.find("llama.block_count") + std::strlen("llama.block_count");
  const uint32_t str_type = 8;
  std::memcpy(t.data() + p, &str_type, 4);
  expect(t, "llama.block_count");
  std::filesystem::remove_all(dir);
}

TEST(GgufLlama, ExportRefusesATokenizerLargerThanTheModel) {
  ModelDir m = test::random_model(false, 280);  // tokenizer has 300 ids
  const std::string dir = test::temp_dir("small");
  EXPECT_THROW(export_gguf(m, dir + "/m.gguf", WeightDType::f32), Error);
  std::filesystem::remove_all(dir);
}

// A model with a previous-token smear would run as a plain Llama in
// llama.cpp (or transformers) and give other logits: both exports refuse it
// and write nothing.
TEST(GgufLlama, ExportsRefuseAModelWithASmear) {
  ModelDir m = test::random_model(false);
  m.config.smear = true;
  m.params.resize(size_t(ParamTable(m.config).total()), 0.1f);
  const std::string dir = test::temp_dir("smear");
  try {
    export_gguf(m, dir + "/m.gguf", WeightDType::f32);
    ADD_FAILURE() << "GGUF export of a smear model did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("smear"), std::string::npos) << e.what();
  }
  EXPECT_THROW(export_hf(m, dir + "/hf", WeightDType::f32), Error);
  EXPECT_FALSE(std::filesystem::exists(dir + "/m.gguf"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/hf"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace shog
