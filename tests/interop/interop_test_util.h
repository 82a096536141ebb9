// A small random model with a tokenizer trained on a few sentences: the
// subject of every interop round trip.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

#include "interop/model_dir.h"
#include "tokenizer/bpe_trainer.h"

namespace shog::test {

inline std::string sample_text() {
  return "The quick brown fox jumps over the lazy dog. It's 2024, and we'll test 12345 numbers!\n"
         "  Indented line\twith tabs; café, naïve, 東京, emoji 🙂 and CAPS'LL.\n\n"
         "def f(x):\n    return x ** 2  # comment\n";
}

inline Tokenizer small_tokenizer() {
  std::string corpus;
  for (int i = 0; i < 20; ++i) corpus += sample_text();
  BpeTrainOptions o;
  o.vocab_size = 300;
  o.threads = 1;
  return train_bpe_on_texts({corpus}, {"corpus"}, o);
}

// Normal(0, 0.5) weights so that f16/bf16 rounding is visible but bounded.
inline ModelDir random_model(bool tied, int64_t vocab = 320) {
  ModelDir m;
  m.config.n_layer = 2;
  m.config.d_model = 32;
  m.config.n_head = 4;
  m.config.n_kv_head = 2;
  m.config.ffn_hidden = 48;
  m.config.vocab = vocab;
  m.config.max_seq = 64;
  m.config.rope_theta = 5000.0f;
  m.config.norm_eps = 1e-6f;
  m.config.tie_embeddings = tied;
  ParamTable t(m.config);
  m.params.resize(size_t(t.total()));
  std::mt19937 rng(42);
  std::normal_distribution<float> nd(0.0f, 0.5f);
  for (auto& p : m.params) p = nd(rng);
  m.tokenizer = small_tokenizer();
  return m;
}

inline std::string temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("shog_interop_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

}  // namespace shog::test
