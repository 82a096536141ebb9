#include "serve/config.h"

#include <filesystem>
#include <regex>
#include <set>

#include <toml++/toml.h>

#include "core/error.h"
#include "core/file_io.h"

namespace shog::serve {

namespace {

// Reads the keys of one TOML table, remembering which were used so that
// finish() can reject the rest (a misspelt key must not be silently ignored).
class TableReader {
 public:
  TableReader(const toml::table& t, std::string file, std::string prefix)
      : t_(t), file_(std::move(file)), prefix_(std::move(prefix)) {}

  std::string where(std::string_view key) const {
    const toml::node* n = t_.get(key);
    const auto line = n ? n->source().begin.line : t_.source().begin.line;
    return fmt::format("{}:{}: key {}{}", file_, line, prefix_, key);
  }
  const toml::node* node(std::string_view key) {
    seen_.insert(std::string(key));
    return t_.get(key);
  }
  void str(std::string_view key, std::string& dst) {
    if (auto* n = node(key)) {
      auto v = n->value<std::string>();
      SHOG_CHECK(v && n->is_string(), ErrorKind::invalid_argument, where(key), "must be a string");
      dst = *v;
    }
  }
  void integer(std::string_view key, int64_t& dst, int64_t lo, int64_t hi) {
    if (auto* n = node(key)) {
      SHOG_CHECK(n->is_integer(), ErrorKind::invalid_argument, where(key), "must be an integer");
      int64_t v = *n->value<int64_t>();
      SHOG_CHECK(v >= lo && v <= hi, ErrorKind::invalid_argument, where(key), "must be in [{}, {}], got {}", lo, hi, v);
      dst = v;
    }
  }
  void integer(std::string_view key, int& dst, int64_t lo, int64_t hi) {
    int64_t v = dst;
    integer(key, v, lo, hi);
    dst = int(v);
  }
  void number(std::string_view key, float& dst) {
    if (auto* n = node(key)) {
      auto v = n->value<double>();
      SHOG_CHECK(v && (n->is_floating_point() || n->is_integer()), ErrorKind::invalid_argument, where(key),
                 "must be a number");
      dst = float(*v);
    }
  }
  void strings(std::string_view key, std::vector<std::string>& dst) {
    if (auto* n = node(key)) {
      dst.clear();
      if (auto v = n->value<std::string>(); v && n->is_string()) {
        dst.push_back(*v);
        return;
      }
      auto* arr = n->as_array();
      SHOG_CHECK(arr, ErrorKind::invalid_argument, where(key), "must be a string or an array of strings");
      for (auto& item : *arr) {
        auto s = item.value<std::string>();
        SHOG_CHECK(s && item.is_string(), ErrorKind::invalid_argument, where(key), "array items must be strings");
        dst.push_back(*s);
      }
    }
  }
  void dtype(std::string_view key, DType& dst) {
    std::string s;
    if (t_.get(key)) {
      str(key, s);
      dst = parse_dtype(s, where(key));
      SHOG_CHECK(dst == DType::f32 || dst == DType::bf16, ErrorKind::invalid_argument, where(key),
                 "must be f32 or bf16");
    }
  }
  const toml::table* table(std::string_view key) {
    if (auto* n = node(key)) {
      SHOG_CHECK(n->is_table(), ErrorKind::invalid_argument, where(key), "must be a table");
      return n->as_table();
    }
    return nullptr;
  }
  void finish() const {
    for (auto&& [k, n] : t_)
      SHOG_CHECK(seen_.count(std::string(k.str())), ErrorKind::invalid_argument, where(k.str()), "unknown key");
  }

 private:
  const toml::table& t_;
  std::string file_, prefix_;
  std::set<std::string> seen_;
};

// Names appear in URLs, metrics labels and the API's `model`: keep them plain.
void check_name(const std::string& name, const std::string& where) {
  static const std::regex ok("[A-Za-z0-9][A-Za-z0-9._:-]{0,63}");
  SHOG_CHECK(std::regex_match(name, ok), ErrorKind::invalid_argument, where,
             "\"{}\" is not a valid name (letters, digits, '.', '_', ':', '-'; at most 64)", name);
}

std::string resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute() || base_dir.empty()) return p;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

// Each [[name]] entry as a table; `what` names it in errors.
std::vector<const toml::table*> array_of_tables(TableReader& top, std::string_view key) {
  std::vector<const toml::table*> out;
  if (auto* n = top.node(key)) {
    auto* arr = n->as_array();
    SHOG_CHECK(arr && arr->is_array_of_tables(), ErrorKind::invalid_argument, top.where(key),
               "must be an array of tables ([[{}]])", key);
    for (auto& e : *arr) out.push_back(e.as_table());
  }
  return out;
}

}  // namespace

PlatformConfig PlatformConfig::load(const std::string& path) {
  SHOG_CHECK(file_exists(path), ErrorKind::io, path, "no such configuration file");
  auto dir = std::filesystem::absolute(path).parent_path().string();
  PlatformConfig c = parse(read_file(path), path, dir);
  c.file = path;
  return c;
}

PlatformConfig PlatformConfig::parse(const std::string& text, const std::string& name, const std::string& base_dir) {
  toml::table tbl;
  try {
    tbl = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw Error(ErrorKind::invalid_argument, fmt::format("{}:{}:{}", name, e.source().begin.line, e.source().begin.column),
                fmt::format("TOML syntax: {}", e.description()));
  }
  PlatformConfig c;
  TableReader top(tbl, name, "");

  if (auto* s = top.table("server")) {
    TableReader r(*s, name, "server.");
    ServerSpec& v = c.server;
    r.str("host", v.host);
    r.integer("port", v.port, 0, 65535);
    r.integer("http_threads", v.http_threads, 1, 4096);
    r.integer("max_body_bytes", v.max_body_bytes, 1024, int64_t(1) << 32);
    r.integer("read_timeout_s", v.read_timeout_s, 1, 3600);
    r.str("keys_db", v.keys_db);
    r.finish();
  }
  c.server.keys_db = resolve(base_dir, c.server.keys_db);
  if (auto* s = top.table("moderation")) {
    TableReader r(*s, name, "moderation.");
    r.str("policies", c.moderation.policies);
    r.str("classifier", c.moderation.classifier);
    r.str("audit_db", c.moderation.audit_db);
    r.finish();
    for (std::string* p : {&c.moderation.policies, &c.moderation.classifier, &c.moderation.audit_db})
      if (!p->empty()) *p = resolve(base_dir, *p);
  }

  std::set<std::string> names;
  auto unique = [&](const std::string& n, const std::string& where, const char* kind) {
    check_name(n, where);
    SHOG_CHECK(names.insert(std::string(kind) + ":" + n).second, ErrorKind::invalid_argument, where,
               "a second {} named \"{}\"", kind, n);
  };

  auto models = array_of_tables(top, "model");
  for (size_t i = 0; i < models.size(); ++i) {
    TableReader r(*models[i], name, fmt::format("model[{}].", i));
    ModelSpec m;
    r.str("name", m.name);
    r.str("path", m.path);
    r.str("tokenizer", m.tokenizer);
    r.str("base", m.base);
    r.dtype("dtype", m.dtype);
    r.integer("max_batch", m.engine.max_batch, 1, 1024);
    r.integer("prefill_chunk", m.engine.prefill_chunk, 1, 1 << 20);
    r.integer("kv_blocks", m.engine.kv_blocks, 0, int64_t(1) << 30);
    r.integer("kv_block_size", m.engine.block_size, 8, 64);
    r.dtype("kv_dtype", m.engine.kv_dtype);
    r.integer("max_queue", m.max_queue, 0, 1 << 20);
    r.integer("threads", m.threads, 0, 1024);
    unique(m.name, r.where("name"), "model");
    SHOG_CHECK(!m.path.empty(), ErrorKind::invalid_argument, r.where("path"), "missing: the model directory");
    m.path = resolve(base_dir, m.path);
    m.tokenizer = resolve(base_dir, m.tokenizer);
    r.finish();
    c.models.push_back(std::move(m));
  }
  SHOG_CHECK(!c.models.empty(), ErrorKind::invalid_argument, name, "no [[model]] declared");
  for (size_t i = 0; i < c.models.size(); ++i)
    if (!c.models[i].base.empty())
      SHOG_CHECK(c.find_model(c.models[i].base), ErrorKind::invalid_argument,
                 fmt::format("{}: key model[{}].base", name, i), "no model named \"{}\"", c.models[i].base);

  auto adapters = array_of_tables(top, "adapter");
  for (size_t i = 0; i < adapters.size(); ++i) {
    TableReader r(*adapters[i], name, fmt::format("adapter[{}].", i));
    AdapterSpec a;
    r.str("name", a.name);
    r.str("model", a.model);
    r.str("path", a.path);
    unique(a.name, r.where("name"), "adapter");
    SHOG_CHECK(c.find_model(a.model), ErrorKind::invalid_argument, r.where("model"), "no model named \"{}\"", a.model);
    SHOG_CHECK(!a.path.empty(), ErrorKind::invalid_argument, r.where("path"), "missing: the adapter directory");
    a.path = resolve(base_dir, a.path);
    r.finish();
    c.adapters.push_back(std::move(a));
  }

  auto deps = array_of_tables(top, "deployment");
  for (size_t i = 0; i < deps.size(); ++i) {
    TableReader r(*deps[i], name, fmt::format("deployment[{}].", i));
    DeploymentSpec d;
    d.defaults.temperature = 0.7f;
    d.defaults.max_new_tokens = 256;
    r.str("name", d.name);
    r.str("model", d.model);
    r.str("adapter", d.adapter);
    r.str("system_prompt", d.system_prompt);
    r.str("description", d.description);
    r.str("moderation", d.moderation);
    r.strings("tiers", d.tiers);
    r.integer("max_tokens", d.max_tokens, 0, 1 << 24);
    r.integer("max_context", d.max_context, 0, 1 << 24);
    unique(d.name, r.where("name"), "deployment");
    SHOG_CHECK(c.find_model(d.model), ErrorKind::invalid_argument, r.where("model"), "no model named \"{}\"", d.model);
    if (!d.adapter.empty()) {
      const AdapterSpec* a = c.find_adapter(d.adapter);
      SHOG_CHECK(a, ErrorKind::invalid_argument, r.where("adapter"), "no adapter named \"{}\"", d.adapter);
      SHOG_CHECK(a->model == d.model, ErrorKind::invalid_argument, r.where("adapter"),
                 "adapter \"{}\" is for model \"{}\", not \"{}\"", d.adapter, a->model, d.model);
    }
    SHOG_CHECK(!d.tiers.empty(), ErrorKind::invalid_argument, r.where("tiers"),
               "missing: the access tiers allowed to call this deployment");
    for (auto& t : d.tiers) check_name(t, r.where("tiers"));
    SHOG_CHECK(!d.moderation.empty(), ErrorKind::invalid_argument, r.where("moderation"),
               "must name a policy (\"none\" for no moderation)");
    if (auto* dt = r.table("defaults")) {
      TableReader s(*dt, name, fmt::format("deployment[{}].defaults.", i));
      SamplingParams& p = d.defaults;
      s.number("temperature", p.temperature);
      s.number("top_p", p.top_p);
      s.integer("top_k", p.top_k, 0, 1 << 24);
      s.number("min_p", p.min_p);
      s.number("repetition_penalty", p.repetition_penalty);
      s.number("frequency_penalty", p.frequency_penalty);
      s.number("presence_penalty", p.presence_penalty);
      s.integer("max_tokens", p.max_new_tokens, 1, 1 << 24);
      s.strings("stop", p.stop_strings);
      s.finish();
      p.validate(fmt::format("{}: deployment[{}].defaults", name, i));
    }
    if (d.max_tokens > 0)
      SHOG_CHECK(d.defaults.max_new_tokens <= d.max_tokens, ErrorKind::invalid_argument,
                 fmt::format("{}: key deployment[{}].defaults.max_tokens", name, i),
                 "{} is above the deployment's limit max_tokens = {}", d.defaults.max_new_tokens, d.max_tokens);
    r.finish();
    c.deployments.push_back(std::move(d));
  }
  SHOG_CHECK(!c.deployments.empty(), ErrorKind::invalid_argument, name, "no [[deployment]] declared");
  top.finish();
  return c;
}

const ModelSpec* PlatformConfig::find_model(const std::string& n) const {
  for (auto& m : models)
    if (m.name == n) return &m;
  return nullptr;
}

const AdapterSpec* PlatformConfig::find_adapter(const std::string& n) const {
  for (auto& a : adapters)
    if (a.name == n) return &a;
  return nullptr;
}

}  // namespace shog::serve
