// Hugging Face export/import: weights round-trip exactly (f32) or within
// rounding (bf16, f16), sharded checkpoints import like single files, the
// tokenizer.json we write is a valid HF byte-level BPE file that loads in our
// HF loader and encodes identically, and configs we would run differently
// are refused.
#include "interop/hf_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_io.h"
#include "core/safetensors.h"
#include "interop/hf_tokenizer.h"
#include "interop/interop_test_util.h"
#include "model/model_io.h"

namespace shog {
namespace {

TEST(HfModel, F32RoundTripIsExactAndFilesAreHfShaped) {
  for (bool tied : {false, true}) {
    ModelDir m = test::random_model(tied);
    const std::string dir = test::temp_dir("hf32");
    export_hf(m, dir + "/hf", WeightDType::f32);
    for (const char* f : {"model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json",
                          "generation_config.json"})
      EXPECT_TRUE(file_exists(dir + "/hf/" + f)) << f;
    auto cfg = nlohmann::json::parse(read_file(dir + "/hf/config.json"));
    EXPECT_EQ(cfg["bos_token_id"], *m.tokenizer->special_id("<|bos|>"));
    EXPECT_EQ(cfg["eos_token_id"], *m.tokenizer->special_id("<|eos|>"));
    EXPECT_EQ(cfg["num_key_value_heads"], 2);
    EXPECT_EQ(cfg["tie_word_embeddings"], tied);
    SafetensorsFile st(dir + "/hf/model.safetensors");
    EXPECT_EQ(st.contains("lm_head.weight"), !tied);
    EXPECT_TRUE(st.contains("model.layers.1.mlp.down_proj.weight"));

    ModelDir r = import_hf(dir + "/hf");
    EXPECT_EQ(r.params, m.params);
    EXPECT_EQ(r.config.tie_embeddings, tied);
    ASSERT_TRUE(r.tokenizer);
    const std::string t = test::sample_text();
    EXPECT_EQ(r.tokenizer->encode(t), m.tokenizer->encode(t));

    // And the imported directory is a shoggoth model directory again.
    save_model_dir(dir + "/back", r);
    ModelDir again = load_model_dir(dir + "/back");
    EXPECT_EQ(again.params, m.params);
    EXPECT_EQ(again.tokenizer->encode(t), m.tokenizer->encode(t));
    EXPECT_EQ(load_model_config(dir + "/back").n_kv_head, 2);
    std::filesystem::remove_all(dir);
  }
}

TEST(HfModel, HalfExportsRoundTripWithinRounding) {
  ModelDir m = test::random_model(false);
  for (WeightDType dt : {WeightDType::bf16, WeightDType::f16}) {
    const std::string dir = test::temp_dir("hfhalf");
    export_hf(m, dir, dt);
    SafetensorsFile st(dir + "/model.safetensors");
    EXPECT_EQ(st.at("model.norm.weight").dtype, dt == WeightDType::bf16 ? StDType::bf16 : StDType::f16);
    ModelDir r = import_hf(dir);
    const float rel = dt == WeightDType::f16 ? 1.0f / 2048 : 1.0f / 256;
    for (size_t i = 0; i < m.params.size(); ++i)
      ASSERT_LE(std::fabs(m.params[i] - r.params[i]), rel * std::fabs(m.params[i]) + 1e-7f) << i;
    std::filesystem::remove_all(dir);
  }
}

TEST(HfModel, ShardedCheckpointImports) {
  ModelDir m = test::random_model(false);
  const std::string dir = test::temp_dir("shard");
  export_hf(m, dir, WeightDType::f32);
  std::filesystem::remove(dir + "/model.safetensors");
  // Two shards, split by tensor, and the index that maps names to them.
  ParamTable table(m.config);
  auto all = param_block_tensors(table, m.params.data(), "");
  std::vector<SafetensorsTensor> s1(all.begin(), all.begin() + all.size() / 2), s2(all.begin() + all.size() / 2, all.end());
  write_safetensors(dir + "/model-00001-of-00002.safetensors", s1);
  write_safetensors(dir + "/model-00002-of-00002.safetensors", s2);
  nlohmann::json idx = {{"metadata", {{"total_size", m.params.size() * 4}}}, {"weight_map", nlohmann::json::object()}};
  for (auto& t : s1) idx["weight_map"][t.name] = "model-00001-of-00002.safetensors";
  for (auto& t : s2) idx["weight_map"][t.name] = "model-00002-of-00002.safetensors";
  write_file_atomic(dir + "/model.safetensors.index.json", idx.dump());
  EXPECT_EQ(import_hf(dir).params, m.params);

  // A tensor missing from the index is named in the error.
  idx["weight_map"].erase("model.norm.weight");
  write_file_atomic(dir + "/model.safetensors.index.json", idx.dump());
  try {
    import_hf(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.norm.weight"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(HfModel, RefusesWhatWeWouldRunDifferently) {
  ModelDir m = test::random_model(false);
  const std::string dir = test::temp_dir("refuse");
  export_hf(m, dir, WeightDType::f32);
  auto cfg = nlohmann::json::parse(read_file(dir + "/config.json"));
  for (auto [key, val] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"attention_bias", true}, {"rope_scaling", {{"type", "linear"}, {"factor", 2.0}}}, {"hidden_act", "gelu"}}) {
    auto c = cfg;
    c[key] = val;
    write_file_atomic(dir + "/config.json", c.dump());
    try {
      import_hf(dir);
      ADD_FAILURE() << key;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::unsupported);
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
  // A weight of the wrong shape names the file and tensor.
  write_file_atomic(dir + "/config.json", cfg.dump());
  ParamTable table(m.config);
  auto ts = param_block_tensors(table, m.params.data(), "");
  ts[1].shape = {32, 32};  // input_layernorm [32] -> [32, 32] (data size no longer matches either)
  std::vector<float> big(32 * 32);
  ts[1].data = big.data();
  write_safetensors(dir + "/model.safetensors", ts);
  try {
    import_hf(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    EXPECT_NE(std::string(e.what()).find("model.layers.0.input_layernorm.weight"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(HfTokenizer, WrittenFileIsByteLevelBpeAndEncodesIdentically) {
  Tokenizer tok = test::small_tokenizer();
  auto j = hf_tokenizer_json(tok);
  EXPECT_EQ(j["model"]["type"], "BPE");
  EXPECT_EQ(j["model"]["vocab"]["Ġ"], int(' '));
  EXPECT_EQ(j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"], tok.pattern());
  EXPECT_EQ(j["decoder"]["type"], "ByteLevel");
  EXPECT_EQ(j["added_tokens"].size(), tok.added_tokens().size());
  Tokenizer back = Tokenizer::parse(j.dump(), "tokenizer.json");
  const std::string t = test::sample_text() + "<|user|>hi<|end|>";
  EXPECT_EQ(back.encode(t), tok.encode(t));
  EXPECT_EQ(back.encode_with_special(t), tok.encode_with_special(t));
  EXPECT_EQ(back.decode(back.encode(t)), t);
  auto cfg = hf_tokenizer_config(tok, 64);
  EXPECT_EQ(cfg["bos_token"], "<|bos|>");
  EXPECT_EQ(cfg["eos_token"], "<|eos|>");
}

}  // namespace
}  // namespace shog
