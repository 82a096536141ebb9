// The platform configuration (`shoggoth serve --config platform.toml`): the
// server, the models (weights), the LoRA adapters on them and the
// deployments the API exposes. Format in docs/api.md ("Configuration");
// configs/platform.toml is an example.
//
//   [[model]]        a set of weights with its own engine thread: a base or
//                    an aligned checkpoint (`base` names its lineage only:
//                    it has weights of its own)
//   [[adapter]]      a LoRA adapter of one model: shares that model's
//                    weights and engine, so its requests batch with the base's
//   [[deployment]]   what a client calls (`model` in the API): a model, an
//                    optional adapter, a system prompt, sampling defaults,
//                    limits, a moderation policy and the tiers allowed
//
// Every key is checked: an unknown key, a wrong type or a bad value is a
// shog::Error naming the file, line and key.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "infer/engine.h"
#include "infer/sampler.h"

namespace shog::serve {

struct ServerSpec {
  std::string host = "127.0.0.1";
  int64_t port = 8080;               // 0: any free port (printed at start)
  int64_t http_threads = 128;        // connections served at once; a stream holds one
  int64_t max_body_bytes = 1 << 20;  // larger request bodies get 413
  int64_t read_timeout_s = 30;
  std::string keys_db = "keys.sqlite";  // relative to the config file
};

// [moderation]: where the deployments' policies come from (paths relative to
// the config file). No policy file: only policy "none" may be used.
struct ModerationSpec {
  std::string policies;    // TOML policy file (docs/moderation.md)
  std::string classifier;  // optional `moderator train` output directory
  std::string audit_db;    // optional SQLite audit log
};

struct ModelSpec {
  std::string name, path, tokenizer;  // tokenizer "": <path>/tokenizer.json or <path>/../tokenizer.json
  std::string base;                   // lineage of an aligned checkpoint (reported by /v1/models)
  DType dtype = DType::f32;
  EngineOptions engine;               // max_batch, prefill_chunk, kv_blocks, block_size, kv_dtype
  int64_t max_queue = 256;            // requests waiting for a slot before 429
  int64_t threads = 0;                // OpenMP threads of its engine thread (0: the default, all cores)
};

struct AdapterSpec {
  std::string name, model, path;
};

struct DeploymentSpec {
  std::string name, model, adapter, system_prompt, description;
  std::string moderation = "none";
  std::vector<std::string> tiers;
  SamplingParams defaults;   // max_new_tokens: a request's default max_tokens
  int64_t max_tokens = 0;    // the most a request may ask for (0: no limit but the context)
  int64_t max_context = 0;   // prompt + completion tokens (0: the model's max_seq)
};

struct PlatformConfig {
  ModerationSpec moderation;
  std::string file;  // where it was read from ("" for parsed text)
  ServerSpec server;
  std::vector<ModelSpec> models;
  std::vector<AdapterSpec> adapters;
  std::vector<DeploymentSpec> deployments;

  // Paths in the file are relative to its directory; load() resolves them.
  static PlatformConfig load(const std::string& path);
  // `name` stands for the file in errors; relative paths resolve against base_dir.
  static PlatformConfig parse(const std::string& text, const std::string& name, const std::string& base_dir);

  const ModelSpec* find_model(const std::string& name) const;
  const AdapterSpec* find_adapter(const std::string& name) const;
};

}  // namespace shog::serve
