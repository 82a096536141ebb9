#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/model_config.h"
#include "model/parameters.h"

using namespace shog;

TEST(ModelConfig, HfJsonRoundTrip) {
  for (const char* p : {"tiny", "small", "d12", "d24"}) {
    ModelConfig c = model_preset(p);
    c.tie_embeddings = std::string(p) == "tiny";
    ModelConfig d = ModelConfig::from_hf_json(c.to_hf_json(), "test");
    EXPECT_EQ(d.to_hf_json(), c.to_hf_json()) << p;
  }
  // The smear is a shoggoth key, written only when on.
  ModelConfig c = model_preset("tiny");
  EXPECT_FALSE(c.to_hf_json().contains("shog_smear"));
  c.smear = true;
  EXPECT_EQ(c.to_hf_json().at("shog_smear"), true);
  EXPECT_TRUE(ModelConfig::from_hf_json(c.to_hf_json(), "test").smear);
  nlohmann::json j = c.to_hf_json();
  j["shog_smear"] = 1;
  EXPECT_THROW(ModelConfig::from_hf_json(j, "config.json"), Error);
}

TEST(ModelConfig, ParameterCountMatchesTheParameterTable) {
  for (bool tied : {false, true})
    for (bool smear : {false, true}) {
      ModelConfig c = model_preset("small");
      c.tie_embeddings = tied;
      c.smear = smear;
      c.n_kv_head = 2;
      EXPECT_EQ(ParamTable(c).total(), c.num_params());
    }
  // GPT-2-small-sized d12 with a separate head: 162.2M parameters.
  EXPECT_EQ(model_preset("d12").num_params(), 162220800);
}

TEST(ModelConfig, ValidationNamesTheField) {
  ModelConfig c = model_preset("tiny");
  c.n_kv_head = 3;
  try {
    c.validate("cfg");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("n_kv_head"), std::string::npos);
  }
  nlohmann::json j = model_preset("tiny").to_hf_json();
  j.erase("hidden_size");
  EXPECT_THROW(ModelConfig::from_hf_json(j, "config.json"), Error);
  j = model_preset("tiny").to_hf_json();
  j["num_hidden_layers"] = "two";
  EXPECT_THROW(ModelConfig::from_hf_json(j, "config.json"), Error);
}

TEST(ParamTable, FusedViewsAreContiguousHfTensors) {
  ModelConfig c = model_preset("tiny");
  ParamTable t(c);
  std::vector<float> block(size_t(t.total()));
  ParamViews v = t.views(block.data());
  const int64_t hd = c.head_dim();
  auto q = t.find("model.layers.1.self_attn.q_proj.weight"), k = t.find("model.layers.1.self_attn.k_proj.weight");
  auto vv = t.find("model.layers.1.self_attn.v_proj.weight");
  EXPECT_EQ(v.layers[1].wqkv, block.data() + q->offset);
  EXPECT_EQ(k->offset, q->offset + c.n_head * hd * c.d_model);
  EXPECT_EQ(vv->offset, k->offset + c.n_kv_head * hd * c.d_model);
  auto g = t.find("model.layers.0.mlp.gate_proj.weight"), u = t.find("model.layers.0.mlp.up_proj.weight");
  EXPECT_EQ(u->offset, g->offset + c.ffn_hidden * c.d_model);
  EXPECT_FALSE(t.find("model.norm.weight")->decay);
  EXPECT_TRUE(t.find("lm_head.weight")->decay);
}
