#include "model/lora.h"

#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_io.h"
#include "core/random.h"
#include "core/safetensors.h"
#include "model/model_io.h"
#include "ops/gemm.h"

namespace shog {

namespace {

constexpr LoraTarget kAllTargets[kLoraTargets] = {LoraTarget::q,    LoraTarget::k,  LoraTarget::v,   LoraTarget::o,
                                                  LoraTarget::gate, LoraTarget::up, LoraTarget::down};

// "model.layers.3.self_attn.q_proj": the base module, as HF names it.
std::string module_name(int64_t layer, LoraTarget t) {
  const bool attn = t == LoraTarget::q || t == LoraTarget::k || t == LoraTarget::v || t == LoraTarget::o;
  return fmt::format("model.layers.{}.{}.{}", layer, attn ? "self_attn" : "mlp", lora_target_name(t));
}

// PEFT wraps the model twice (PeftModel -> LoraModel -> LlamaForCausalLM),
// hence "base_model.model." before the HF name.
std::string peft_name(int64_t layer, LoraTarget t, char ab) {
  return fmt::format("base_model.model.{}.lora_{}.weight", module_name(layer, t), ab);
}

void validate(const LoraConfig& c, const std::string& where) {
  SHOG_CHECK(c.rank >= 1, ErrorKind::invalid_argument, where, "LoRA rank must be >= 1, got {}", c.rank);
  SHOG_CHECK(std::isfinite(c.alpha), ErrorKind::invalid_argument, where, "lora_alpha must be finite, got {}",
             c.alpha);
  SHOG_CHECK(c.dropout >= 0 && c.dropout < 1, ErrorKind::invalid_argument, where,
             "lora_dropout must be in [0, 1), got {}", c.dropout);
  SHOG_CHECK(!c.targets.empty(), ErrorKind::invalid_argument, where, "no target modules");
}

}  // namespace

const char* lora_target_name(LoraTarget t) {
  switch (t) {
    case LoraTarget::q: return "q_proj";
    case LoraTarget::k: return "k_proj";
    case LoraTarget::v: return "v_proj";
    case LoraTarget::o: return "o_proj";
    case LoraTarget::gate: return "gate_proj";
    case LoraTarget::up: return "up_proj";
    case LoraTarget::down: return "down_proj";
  }
  return "?";
}

LoraTarget parse_lora_target(const std::string& s) {
  for (LoraTarget t : kAllTargets) {
    std::string full = lora_target_name(t);
    if (s == full || s == full.substr(0, full.size() - 5)) return t;
  }
  throw Error(ErrorKind::invalid_argument, "LoRA target",
              fmt::format("unknown module '{}' (expected q, k, v, o, gate, up, down, optionally with _proj)", s));
}

int64_t lora_in_features(const ModelConfig& c, LoraTarget t) {
  switch (t) {
    case LoraTarget::o: return c.n_head * c.head_dim();
    case LoraTarget::down: return c.ffn_hidden;
    default: return c.d_model;
  }
}

int64_t lora_out_features(const ModelConfig& c, LoraTarget t) {
  switch (t) {
    case LoraTarget::q: return c.n_head * c.head_dim();
    case LoraTarget::k:
    case LoraTarget::v: return c.n_kv_head * c.head_dim();
    case LoraTarget::gate:
    case LoraTarget::up: return c.ffn_hidden;
    default: return c.d_model;
  }
}

static ParamTable adapter_table(const ModelConfig& base, LoraConfig& cfg, std::vector<int32_t>& slots) {
  validate(cfg, "LoRA config");
  // Canonical order, no repeats: the layout (and the file) do not depend on
  // how the targets were listed.
  std::vector<LoraTarget> ts;
  for (LoraTarget t : kAllTargets)
    for (LoraTarget u : cfg.targets)
      if (u == t) {
        ts.push_back(t);
        break;
      }
  cfg.targets = ts;
  std::vector<ParamEntry> entries;
  slots.assign(size_t(base.n_layer * kLoraTargets), -1);
  for (int64_t l = 0; l < base.n_layer; ++l)
    for (LoraTarget t : ts) {
      const int64_t in = lora_in_features(base, t), out = lora_out_features(base, t);
      slots[size_t(l * kLoraTargets + int64_t(t))] = int32_t(entries.size());
      // Decayed like every weight matrix; no bf16 copy (the LoRA path runs in f32).
      entries.push_back({peft_name(l, t, 'A'), {cfg.rank, in}, 0, 0, true, false});
      entries.push_back({peft_name(l, t, 'B'), {out, cfg.rank}, 0, 0, true, false});
    }
  return ParamTable(std::move(entries));
}

LoraAdapter::LoraAdapter(const ModelConfig& base, LoraConfig cfg)
    : base_(base), cfg_(std::move(cfg)), table_(adapter_table(base_, cfg_, slots_)) {
  params_ = Tensor::empty(DType::f32, {table_.total()});
  grads_ = Tensor::empty(DType::f32, {table_.total()});
}

LoraAdapter::LoraAdapter(const LoraAdapter& o) : base_(o.base_), cfg_(o.cfg_), slots_(o.slots_), table_(o.table_) {
  params_ = Tensor::empty(DType::f32, {table_.total()});
  grads_ = Tensor::empty(DType::f32, {table_.total()});
  std::memcpy(params(), o.params(), size_t(table_.total()) * sizeof(float));
  std::memcpy(grads(), o.grads(), size_t(table_.total()) * sizeof(float));
}

LoraAdapter& LoraAdapter::operator=(const LoraAdapter& o) {
  if (this != &o) *this = LoraAdapter(o);
  return *this;
}

void LoraAdapter::init(uint64_t seed) {
  // PEFT: kaiming_uniform_(A, a=sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)); B = 0.
  Rng rng(seed);
  for (auto& e : table_.entries()) {
    float* p = params() + e.offset;
    if (e.name.ends_with("lora_B.weight")) {
      std::fill(p, p + e.numel, 0.0f);
      continue;
    }
    const double bound = 1.0 / std::sqrt(double(e.shape[1]));
    for (int64_t i = 0; i < e.numel; ++i) p[i] = float((2 * rng.uniform() - 1) * bound);
  }
}

void LoraAdapter::zero_grad() { std::memset(grads(), 0, size_t(table_.total()) * sizeof(float)); }

int64_t LoraAdapter::slot(int64_t layer, LoraTarget t) const {
  SHOG_ASSERT(layer >= 0 && layer < base_.n_layer);
  return slots_[size_t(layer * kLoraTargets + int64_t(t))];
}

bool LoraAdapter::adapts(LoraTarget t) const {
  for (LoraTarget u : cfg_.targets)
    if (u == t) return true;
  return false;
}

LoraAdapter::Pair LoraAdapter::weights(int64_t layer, LoraTarget t) {
  const int64_t i = slot(layer, t);
  if (i < 0) return {};
  auto& a = table_.entries()[size_t(i)];
  auto& b = table_.entries()[size_t(i + 1)];
  return {params() + a.offset, params() + b.offset, a.shape[1], b.shape[0]};
}

LoraAdapter::ConstPair LoraAdapter::weights(int64_t layer, LoraTarget t) const {
  const int64_t i = slot(layer, t);
  if (i < 0) return {};
  auto& a = table_.entries()[size_t(i)];
  auto& b = table_.entries()[size_t(i + 1)];
  return {params() + a.offset, params() + b.offset, a.shape[1], b.shape[0]};
}

LoraAdapter::Pair LoraAdapter::grads_of(int64_t layer, LoraTarget t) {
  const int64_t i = slot(layer, t);
  if (i < 0) return {};
  auto& a = table_.entries()[size_t(i)];
  auto& b = table_.entries()[size_t(i + 1)];
  return {grads() + a.offset, grads() + b.offset, a.shape[1], b.shape[0]};
}

void LoraAdapter::check_base(const ModelConfig& m, const std::string& where) const {
  SHOG_CHECK(m.n_layer == base_.n_layer && m.d_model == base_.d_model && m.n_head == base_.n_head &&
                 m.n_kv_head == base_.n_kv_head && m.ffn_hidden == base_.ffn_hidden,
             ErrorKind::invalid_argument, where,
             "the LoRA adapter was made for another model shape (layers {}, d_model {}, heads {}/{}, ffn {}; this "
             "model: {}, {}, {}/{}, {})",
             base_.n_layer, base_.d_model, base_.n_head, base_.n_kv_head, base_.ffn_hidden, m.n_layer, m.d_model,
             m.n_head, m.n_kv_head, m.ffn_hidden);
}

void LoraAdapter::save(const std::string& dir) const {
  make_dirs(dir);
  write_safetensors(dir + "/adapter_model.safetensors", param_block_tensors(table_, params(), ""),
                    {{"format", "pt"}, {"producer", "shoggoth"}});
  nlohmann::json targets = nlohmann::json::array();
  for (LoraTarget t : cfg_.targets) targets.push_back(lora_target_name(t));
  // Only keys every PEFT release knows (older ones reject unknown keys);
  // the newer options' defaults (no rsLoRA, no DoRA, no patterns) are ours.
  nlohmann::json j = {
      {"peft_type", "LORA"},
      {"task_type", "CAUSAL_LM"},
      {"r", cfg_.rank},
      {"lora_alpha", cfg_.alpha},
      {"lora_dropout", cfg_.dropout},
      {"target_modules", targets},
      {"bias", "none"},
      {"fan_in_fan_out", false},
      {"inference_mode", true},
      {"init_lora_weights", true},
      {"modules_to_save", nullptr},
      {"layers_to_transform", nullptr},
      {"base_model_name_or_path",
       cfg_.base_model_name_or_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(cfg_.base_model_name_or_path)},
  };
  write_file_atomic(dir + "/adapter_config.json", j.dump(2) + "\n");
}

// Reads adapter_config.json, refusing PEFT options that would compute
// something other than y = W x + (alpha / r) B A x on our target modules.
static LoraConfig read_adapter_config(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::bad_input, path, fmt::format("not valid JSON: {}", e.what()));
  }
  SHOG_CHECK(j.is_object(), ErrorKind::bad_input, path, "not a JSON object");
  auto where = [&](const char* key) { return fmt::format("{}: key {}", path, key); };
  auto get = [&](const char* key) -> const nlohmann::json* {
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  };
  const auto* type = get("peft_type");
  SHOG_CHECK(type && type->is_string() && *type == "LORA", ErrorKind::unsupported, where("peft_type"),
             "only LORA adapters are supported, got {}", type ? type->dump() : "nothing");
  LoraConfig c;
  const auto* r = get("r");
  SHOG_CHECK(r && r->is_number_integer() && r->get<int64_t>() >= 1, ErrorKind::bad_input, where("r"),
             "must be an integer >= 1, got {}", r ? r->dump() : "nothing");
  c.rank = r->get<int64_t>();
  const auto* alpha = get("lora_alpha");
  SHOG_CHECK(alpha && alpha->is_number(), ErrorKind::bad_input, where("lora_alpha"), "must be a number, got {}",
             alpha ? alpha->dump() : "nothing");
  c.alpha = alpha->get<float>();
  if (const auto* d = get("lora_dropout")) {
    SHOG_CHECK(d->is_number() && d->get<double>() >= 0 && d->get<double>() < 1, ErrorKind::bad_input,
               where("lora_dropout"), "must be a number in [0, 1), got {}", d->dump());
    c.dropout = d->get<float>();
  }
  const auto* tm = get("target_modules");
  SHOG_CHECK(tm, ErrorKind::bad_input, where("target_modules"), "missing");
  c.targets.clear();
  if (tm->is_string()) {
    SHOG_CHECK(*tm == "all-linear", ErrorKind::unsupported, where("target_modules"),
               "a pattern ({}) is not supported; list the modules", tm->dump());
    c.targets.assign(std::begin(kAllTargets), std::end(kAllTargets));
  } else {
    SHOG_CHECK(tm->is_array() && !tm->empty(), ErrorKind::bad_input, where("target_modules"),
               "must be a non-empty list of module names");
    for (auto& m : *tm) {
      SHOG_CHECK(m.is_string(), ErrorKind::bad_input, where("target_modules"), "{} is not a module name", m.dump());
      try {
        c.targets.push_back(parse_lora_target(m.get<std::string>()));
      } catch (const Error&) {
        throw Error(ErrorKind::unsupported, where("target_modules"),
                    fmt::format("module {} is not one we adapt (q/k/v/o/gate/up/down_proj)", m.dump()));
      }
    }
  }
  if (const auto* b = get("bias"))
    SHOG_CHECK(*b == "none", ErrorKind::unsupported, where("bias"), "only \"none\" is supported, got {}", b->dump());
  for (const char* flag : {"use_rslora", "use_dora", "fan_in_fan_out"})
    if (const auto* f = get(flag))
      SHOG_CHECK(*f == false, ErrorKind::unsupported, where(flag), "{} is not supported", f->dump());
  for (const char* key : {"rank_pattern", "alpha_pattern", "modules_to_save", "layers_to_transform"})
    if (const auto* f = get(key))
      SHOG_CHECK(f->empty(), ErrorKind::unsupported, where(key), "{} is not supported", f->dump());
  if (const auto* b = get("base_model_name_or_path"); b && b->is_string()) c.base_model_name_or_path = *b;
  validate(c, path);
  return c;
}

LoraAdapter LoraAdapter::load(const std::string& dir, const ModelConfig& base) {
  SHOG_CHECK(file_exists(dir + "/adapter_config.json") && file_exists(dir + "/adapter_model.safetensors"),
             ErrorKind::invalid_argument, dir,
             "not a LoRA adapter directory (expected adapter_config.json and adapter_model.safetensors in it)");
  LoraAdapter a(base, read_adapter_config(dir + "/adapter_config.json"));
  SafetensorsFile f(dir + "/adapter_model.safetensors");
  for (auto& e : f.entries())
    SHOG_CHECK(a.table_.find(e.name) != nullptr, ErrorKind::bad_input, f.path(),
               "tensor '{}' is not a LoRA weight of this adapter's target modules for a {}-layer model", e.name,
               base.n_layer);
  load_param_block(f, a.table_, a.params(), "");
  for (auto& e : a.table_.entries())
    for (int64_t i = 0; i < e.numel; ++i)
      SHOG_CHECK(std::isfinite(a.params()[e.offset + i]), ErrorKind::bad_input, f.path(),
                 "tensor '{}' holds a non-finite value at element {}", e.name, i);
  return a;
}

void LoraAdapter::merge_into(const ParamTable& base_table, float* base_params) const {
  const float s = cfg_.scale();
  std::vector<float> bs;
  for (int64_t l = 0; l < base_.n_layer; ++l)
    for (LoraTarget t : cfg_.targets) {
      const std::string name = module_name(l, t) + ".weight";
      const ParamEntry* e = base_table.find(name);
      auto p = weights(l, t);
      SHOG_CHECK(e && e->shape == Shape({p.out, p.in}), ErrorKind::invalid_argument, "LoRA merge",
                 "the base model has no {} of shape [{}, {}]", name, p.out, p.in);
      // W += (s B) A: scale the small factor, then one accumulating GEMM.
      bs.assign(p.b, p.b + p.out * cfg_.rank);
      for (float& x : bs) x *= s;
      ops::gemm(DType::f32, false, false, p.out, p.in, cfg_.rank, bs.data(), cfg_.rank, p.a, p.in,
                base_params + e->offset, p.in, true);
    }
}

}  // namespace shog
