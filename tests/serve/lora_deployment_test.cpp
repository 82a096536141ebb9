// Deployments with a LoRA adapter: they run on their base model's weights
// and engine (one model, one KV pool), their output differs from the base's,
// and requests for the base and the adapter decoded in the same batch give
// the same text as each alone.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/random.h"
#include "model/lora.h"
#include "serve/api_keys.h"
#include "serve/config.h"
#include "serve/http_server.h"
#include "serve/model_registry.h"
#include "serve/serve_test_util.h"

using namespace shog;
using namespace shog::serve;
using namespace shog::serve_test;
using json = nlohmann::json;

TEST(LoraDeployment, SharesTheBaseAndBatchesWithIt) {
  TempDir dir;
  make_tiny_model_dir(dir.path + "/model");
  // An adapter with B != 0 (a fresh one would change nothing).
  ModelConfig base = load_model_config(dir.path + "/model");
  LoraConfig lc;
  lc.rank = 4;
  lc.alpha = 8;
  lc.targets = {LoraTarget::q, LoraTarget::v, LoraTarget::o, LoraTarget::down};
  LoraAdapter ad(base, lc);
  ad.init(1);
  Rng rng(2);
  for (int64_t l = 0; l < base.n_layer; ++l)
    for (LoraTarget t : lc.targets) {
      auto w = ad.weights(l, t);
      for (int64_t i = 0; i < w.out * lc.rank; ++i) w.b[i] = float(rng.uniform() - 0.5) * 0.5f;
    }
  ad.save(dir.path + "/pirate");

  std::ofstream(dir.path + "/platform.toml") << R"(
[server]
port = 0
keys_db = "keys.sqlite"
[[model]]
name = "tiny"
path = "model"
[[adapter]]
name = "pirate"
model = "tiny"
path = "pirate"
[[deployment]]
name = "plain"
model = "tiny"
tiers = ["t"]
[[deployment]]
name = "pirate"
model = "tiny"
adapter = "pirate"
tiers = ["t"]
)";
  auto cfg = PlatformConfig::load(dir.path + "/platform.toml");
  ApiKeyStore keys(cfg.server.keys_db);
  const std::string key = keys.create("k", "t", 0).key;
  ModelRegistry reg(cfg);
  ASSERT_EQ(reg.models().size(), 1u);  // one set of weights
  EXPECT_EQ(reg.find("pirate")->adapter, reg.models()[0].adapters.at("pirate").get());
  HttpServer server(reg, keys, nullptr);
  const int port = server.bind();
  std::thread t([&] { server.listen(); });
  server.wait_until_listening();

  auto complete = [&](const std::string& model) {
    json b = {{"model", model}, {"prompt", "the quick brown fox"}, {"max_tokens", 24}, {"temperature", 0},
              {"ignore_eos", true}};
    HttpReply r = raw_request(port, "POST", "/v1/completions", b.dump(), key);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body)["choices"][0]["text"].get<std::string>();
  };
  const std::string plain = complete("plain"), pirate = complete("pirate");
  EXPECT_NE(plain, pirate) << "the adapter changed nothing";
  // Together, in one batch: each gets what it got alone.
  for (int round = 0; round < 3; ++round) {
    std::string a, b;
    std::thread ta([&] { a = complete("plain"); }), tb([&] { b = complete("pirate"); });
    ta.join();
    tb.join();
    EXPECT_EQ(a, plain);
    EXPECT_EQ(b, pirate);
  }
  json h = json::parse(raw_request(port, "GET", "/health", "").body);
  EXPECT_EQ(h["models"].size(), 1u);
  server.stop();
  t.join();
}
