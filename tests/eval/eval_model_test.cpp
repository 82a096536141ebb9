// Naming and loading the models under evaluation: NAME=DIR specs, full model
// directories, LoRA adapter directories over their recorded base, and clear
// errors for what is not a model.
#include "eval/eval_model.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "eval_fixture.h"

namespace shog {
namespace {

TEST(EvalModel, ParsesNameEqualsDirAndDefaultsTheName) {
  ModelSpec a = parse_model_spec("sft=runs/sft/out");
  EXPECT_EQ(a.name, "sft");
  EXPECT_EQ(a.dir, "runs/sft/out");
  ModelSpec b = parse_model_spec("runs/dpo_v2/");
  EXPECT_EQ(b.name, "dpo_v2");
  EXPECT_EQ(b.dir, "runs/dpo_v2/");
  for (const char* bad : {"=runs/x", "sft=", "my model=runs/x", "a/b=runs/x", "..=x"}) {
    try {
      parse_model_spec(bad);
      FAIL() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
      EXPECT_EQ(e.where(), "--model");
    }
  }
}

TEST(EvalModel, LoadsAFullModelAndAnAdapterOverItsBase) {
  testing::TempDir d;
  evaltest::write_model_dir(d.file("base"), 1);
  evaltest::write_adapter_dir(d.file("lora"), d.file("base"), true);
  EvalModel full = EvalModel::load({"base", d.file("base")}, DType::f32);
  EXPECT_EQ(full.adapter(), nullptr);
  EXPECT_TRUE(full.base_dir().empty());
  EXPECT_EQ(full.model().config().vocab, evaltest::tiny_config().vocab);
  EvalModel lora = EvalModel::load({"lora", d.file("lora")}, DType::f32);
  ASSERT_NE(lora.adapter(), nullptr);
  EXPECT_EQ(lora.adapter()->config().rank, 4);
  EXPECT_EQ(lora.base_dir(), d.file("base"));
  EXPECT_EQ(lora.model().lora(), nullptr);  // kept apart: applied per request
  EXPECT_EQ(lora.chat().end_id(), *test::sample_tokenizer().special_id("<|end|>"));
}

TEST(EvalModel, AdapterBaseResolvesFromTheWorkingDirectoryOrTheAdapter) {
  testing::TempDir d;
  evaltest::write_model_dir(d.file("base"), 1);
  // Relative to the adapter directory: runs/lora with base "../base".
  std::filesystem::create_directories(d.file("runs"));
  evaltest::write_adapter_dir(d.file("runs/lora"), "../../base", false);
  EXPECT_EQ(std::filesystem::canonical(adapter_base_dir(d.file("runs/lora"))),
            std::filesystem::canonical(d.file("base")));
  evaltest::write_adapter_dir(d.file("lost"), "no/such/base", false);
  try {
    adapter_base_dir(d.file("lost"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.where().find("adapter_config.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("no/such/base"), std::string::npos);
  }
}

TEST(EvalModel, ADirectoryThatIsNoModelIsAClearError) {
  testing::TempDir d;
  EXPECT_THROW(EvalModel::load({"x", d.file("nowhere")}, DType::f32), Error);
  std::filesystem::create_directories(d.file("empty"));
  try {
    EvalModel::load({"x", d.file("empty")}, DType::f32);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace shog
