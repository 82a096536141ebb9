// Tiny models written as directories, for the eval tests: a random
// "tiny"-shaped model with a small trained tokenizer that has the chat
// markers, and LoRA adapters over it.
#pragma once
#include <string>

#include "core/random.h"
#include "data/test_dir.h"
#include "interop/model_dir.h"
#include "model/lora.h"
#include "model/transformer.h"
#include "tokenizer/test_corpus.h"

namespace shog::evaltest {

inline ModelConfig tiny_config() {
  ModelConfig c = model_preset("tiny");
  c.vocab = 576;  // the sample tokenizer has 563 tokens
  c.max_seq = 64;
  return c;
}

// A model directory with random weights (std large enough that replies vary).
inline void write_model_dir(const std::string& dir, uint64_t seed, float std = 0.1f) {
  ModelDir m;
  m.config = tiny_config();
  Transformer t(m.config);
  t.init_weights(seed, std);
  m.params.assign(t.params(), t.params() + t.num_floats());
  m.tokenizer = test::sample_tokenizer();
  save_model_dir(dir, m);
}

// A LoRA adapter over `base`; nonzero B when `perturb`, so it changes outputs.
inline void write_adapter_dir(const std::string& dir, const std::string& base, bool perturb, uint64_t seed = 5) {
  LoraConfig lc;
  lc.rank = 4;
  lc.targets = {LoraTarget::q, LoraTarget::v, LoraTarget::down};
  lc.base_model_name_or_path = base;
  LoraAdapter a(tiny_config(), lc);
  a.init(seed);
  if (perturb) {
    Rng rng(seed);
    for (int64_t i = 0; i < a.num_floats(); ++i)
      if (a.params()[i] == 0.0f) a.params()[i] = float(rng.uniform() - 0.5) * 2.0f;
  }
  a.save(dir);
}

}  // namespace shog::evaltest
