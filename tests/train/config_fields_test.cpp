#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <fstream>

#include "core/error.h"
#include "train/config_fields.h"
#include "train/pretrain.h"

using namespace shog;

namespace {
std::string write_toml(const std::string& name, const std::string& text) {
  std::string p = ::testing::TempDir() + "/" + name;
  std::ofstream(p) << text;
  return p;
}
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(ConfigFields, TomlThenFlagsOverride) {
  PretrainConfig cfg;
  ConfigFields f;
  cfg.register_fields(f);
  f.load_toml(write_toml("a.toml", "[train]\nlr = 0.5\nsteps = 7\n[data]\ntrain = [\"a.bin\", \"b.bin\"]\n"));
  CLI::App app;
  f.add_flags(app);
  const char* argv[] = {"x", "--steps", "9", "--train.dtype", "f32"};
  app.parse(5, const_cast<char**>(argv));
  f.apply_flags();
  EXPECT_DOUBLE_EQ(cfg.lr, 0.5);
  EXPECT_EQ(cfg.steps, 9);
  EXPECT_EQ(cfg.dtype, "f32");
  EXPECT_EQ(cfg.train_shards, (std::vector<std::string>{"a.bin", "b.bin"}));
}

TEST(ConfigFields, UnknownKeysWrongTypesAndSyntaxAreNamed) {
  PretrainConfig cfg;
  ConfigFields f;
  cfg.register_fields(f);
  EXPECT_NE(error_of([&] { f.load_toml(write_toml("b.toml", "[train]\nlearnin_rate = 1\n")); }).find("train.learnin_rate"),
            std::string::npos);
  EXPECT_NE(error_of([&] { f.load_toml(write_toml("c.toml", "[train]\nsteps = 1.5\n")); }).find("train.steps"),
            std::string::npos);
  EXPECT_NE(error_of([&] { f.load_toml(write_toml("d.toml", "[train\nsteps = 1\n")); }).find("d.toml:"), std::string::npos);
  CLI::App app;
  f.add_flags(app);
  const char* argv[] = {"x", "--lr", "fast"};
  app.parse(3, const_cast<char**>(argv));
  EXPECT_NE(error_of([&] { f.apply_flags(); }).find("--train.lr"), std::string::npos);
}

TEST(ConfigFields, EffectiveConfigRoundTripsThroughToml) {
  PretrainConfig a;
  a.lr = 0.125;
  a.train_shards = {"x.bin"};
  a.dtype = "f32";
  ConfigFields fa;
  a.register_fields(fa);
  PretrainConfig b;
  ConfigFields fb;
  b.register_fields(fb);
  fb.load_toml(write_toml("e.toml", fa.to_toml()));
  EXPECT_DOUBLE_EQ(b.lr, 0.125);
  EXPECT_EQ(b.train_shards, a.train_shards);
  EXPECT_EQ(b.dtype, "f32");
}

TEST(PretrainConfig, ValidationNamesTheKey) {
  PretrainConfig c;
  c.train_shards = {"x.bin"};
  c.max_seq = 128;  // an explicit max_seq the sequence does not fit in
  c.seq_len = 256;
  EXPECT_NE(error_of([&] { c.validate(); }).find("train.seq_len"), std::string::npos);
  c.seq_len = 64;
  c.beta2 = 1.5;
  EXPECT_NE(error_of([&] { c.validate(); }).find("train.beta2"), std::string::npos);
  c.beta2 = 0.95;
  c.train_shards.clear();
  EXPECT_NE(error_of([&] { c.validate(); }).find("data.train"), std::string::npos);
}
