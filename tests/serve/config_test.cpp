// The platform config: a full file parses into models, adapters and
// deployments with paths resolved against the file's directory, and every
// mistake is an error that names the file, line and key.
#include <gtest/gtest.h>

#include "core/error.h"
#include "serve/config.h"

using namespace shog;
using namespace shog::serve;

namespace {

const char* kGood = R"(
[server]
host = "127.0.0.1"
port = 0
keys_db = "keys.sqlite"

[[model]]
name = "base"
path = "models/base"
max_batch = 8
kv_dtype = "bf16"

[[model]]
name = "base-sft"
path = "/abs/sft"
base = "base"

[[adapter]]
name = "pirate"
model = "base"
path = "adapters/pirate"

[[deployment]]
name = "base"
model = "base"
tiers = ["research"]

[[deployment]]
name = "chat"
model = "base-sft"
system_prompt = "Be kind."
tiers = ["public", "partner"]
max_tokens = 200
max_context = 128
[deployment.defaults]
temperature = 0.5
top_p = 0.9
max_tokens = 64
stop = ["\n\n"]

[[deployment]]
name = "pirate"
model = "base"
adapter = "pirate"
moderation = "strict"
tiers = "partner"
)";

std::string error_of(const std::string& text) {
  try {
    PlatformConfig::parse(text, "p.toml", "/cfg");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(PlatformConfig, ParsesModelsAdaptersAndDeployments) {
  PlatformConfig c = PlatformConfig::parse(kGood, "p.toml", "/cfg");
  EXPECT_EQ(c.server.port, 0);
  EXPECT_EQ(c.server.keys_db, "/cfg/keys.sqlite");
  ASSERT_EQ(c.models.size(), 2u);
  EXPECT_EQ(c.models[0].path, "/cfg/models/base");
  EXPECT_EQ(c.models[0].engine.max_batch, 8);
  EXPECT_EQ(c.models[0].engine.kv_dtype, DType::bf16);
  EXPECT_EQ(c.models[1].path, "/abs/sft");
  EXPECT_EQ(c.models[1].base, "base");
  ASSERT_EQ(c.adapters.size(), 1u);
  EXPECT_EQ(c.adapters[0].path, "/cfg/adapters/pirate");
  ASSERT_EQ(c.deployments.size(), 3u);
  const DeploymentSpec& chat = c.deployments[1];
  EXPECT_EQ(chat.system_prompt, "Be kind.");
  EXPECT_EQ(chat.tiers, (std::vector<std::string>{"public", "partner"}));
  EXPECT_EQ(chat.max_tokens, 200);
  EXPECT_EQ(chat.max_context, 128);
  EXPECT_FLOAT_EQ(chat.defaults.temperature, 0.5f);
  EXPECT_EQ(chat.defaults.max_new_tokens, 64);
  EXPECT_EQ(chat.defaults.stop_strings, std::vector<std::string>{"\n\n"});
  EXPECT_EQ(c.deployments[0].moderation, "none");
  EXPECT_EQ(c.deployments[2].moderation, "strict");
  EXPECT_EQ(c.deployments[2].tiers, std::vector<std::string>{"partner"});  // a single string is a list of one
}

TEST(PlatformConfig, ErrorsNameTheKey) {
  const std::string model = "[[model]]\nname = \"m\"\npath = \"p\"\n";
  auto dep = [](const std::string& body) {
    return "\n[[deployment]]\nname = \"d\"\nmodel = \"m\"\ntiers = [\"public\"]\n" + body;
  };
  struct Case {
    std::string text, expect;
  } cases[] = {
      {model + dep("colour = 3\n"), "p.toml:9: key deployment[0].colour: unknown key"},
      {model + dep("max_tokens = \"many\"\n"), "key deployment[0].max_tokens: must be an integer"},
      {model + dep("[deployment.defaults]\ntemperature = -1\n"), "temperature"},
      {model + dep("[deployment.defaults]\ntop_p = \"x\"\n"), "key deployment[0].defaults.top_p: must be a number"},
      {model + dep("[deployment.defaults]\nmax_tokens = 900\n") + "max_tokens = 100\n", ""},  // TOML: key after subtable
      {model + "\n[[deployment]]\nname = \"d\"\nmodel = \"m\"\n", "key deployment[0].tiers: missing"},
      {model + "\n[[deployment]]\nname = \"d\"\nmodel = \"nope\"\ntiers = [\"a\"]\n", "no model named \"nope\""},
      {model + dep("adapter = \"x\"\n"), "no adapter named \"x\""},
      {model + "[[model]]\nname = \"m2\"\npath = \"q\"\n[[adapter]]\nname = \"a\"\nmodel = \"m2\"\npath = \"a\"\n" +
           dep("adapter = \"a\"\n"),
       "adapter \"a\" is for model \"m2\", not \"m\""},
      {model + model + dep(""), "a second model named \"m\""},
      {"[[model]]\nname = \"m\"\n" + dep(""), "key model[0].path: missing"},
      {"[[model]]\nname = \"bad name\"\npath = \"p\"\n" + dep(""), "not a valid name"},
      {model + "[server]\nport = 70000\n" + dep(""), "key server.port: must be in [0, 65535]"},
      {model + "kv_dtype = \"f16\"\n" + dep(""), "key model[0].kv_dtype"},
      {model, "no [[deployment]] declared"},
      {model + dep("") + "oops = = 1\n", "TOML syntax"},
  };
  for (auto& c : cases) {
    std::string e = error_of(c.text);
    if (c.expect.empty()) {
      EXPECT_NE(e, "") << c.text;
    } else {
      EXPECT_NE(e.find(c.expect), std::string::npos) << "expected '" << c.expect << "' in '" << e << "'\n" << c.text;
    }
  }
}

TEST(PlatformConfig, DefaultMaxTokensMustFitTheLimit) {
  std::string t = "[[model]]\nname = \"m\"\npath = \"p\"\n[[deployment]]\nname = \"d\"\nmodel = \"m\"\n"
                  "tiers = [\"t\"]\nmax_tokens = 10\n[deployment.defaults]\nmax_tokens = 20\n";
  EXPECT_NE(error_of(t).find("above the deployment's limit"), std::string::npos) << error_of(t);
}
