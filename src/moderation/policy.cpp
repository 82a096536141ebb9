#include "moderation/policy.h"

#include <fmt/ranges.h>

#include <functional>
#include <set>
#include <toml++/toml.h>

#include "core/error.h"
#include "core/file_io.h"

namespace shog {

int action_severity(ModerationAction a) {
  switch (a) {
    case ModerationAction::allow: return 0;
    case ModerationAction::flag: return 1;
    case ModerationAction::redact: return 2;
    case ModerationAction::refuse: return 3;
    case ModerationAction::block: return 4;
  }
  return 0;
}

const char* action_name(ModerationAction a) {
  switch (a) {
    case ModerationAction::allow: return "allow";
    case ModerationAction::flag: return "flag";
    case ModerationAction::redact: return "redact";
    case ModerationAction::refuse: return "refuse";
    case ModerationAction::block: return "block";
  }
  return "?";
}

ModerationAction parse_action(std::string_view s, const std::string& where) {
  for (auto a : {ModerationAction::allow, ModerationAction::flag, ModerationAction::redact, ModerationAction::refuse,
                 ModerationAction::block})
    if (s == action_name(a)) return a;
  throw Error(ErrorKind::invalid_argument, where,
              fmt::format("unknown action '{}' (expected allow, flag, refuse, redact or block)", s));
}

const char* direction_name(Direction d) { return d == Direction::input ? "input" : "output"; }
const char* output_mode_name(OutputMode m) { return m == OutputMode::hold_back ? "hold_back" : "stream_first"; }

const CategoryRule& Policy::rule(Direction d, const std::string& category) const {
  static const CategoryRule allow_all;
  const auto& m = d == Direction::input ? input : output;
  auto it = m.find(category);
  return it == m.end() ? allow_all : it->second;
}

bool Policy::allows_everything() const {
  for (const auto* m : {&input, &output})
    for (const auto& [c, r] : *m)
      if (r.action != ModerationAction::allow) return false;
  return true;
}

namespace {

Policy none_policy(const CategorySet& cats) {
  Policy p;
  p.name = "none";
  p.description = "No moderation: every category allowed, nothing checked or logged.";
  p.use_rules = p.use_classifier = false;
  for (const auto& c : cats.all()) p.input[c.id] = p.output[c.id] = CategoryRule{};
  return p;
}

struct Parser {
  std::string file;
  const toml::table& root;
  CategorySet& cats;
  RuleDetector& rules;
  std::map<std::string, Policy>& policies;

  std::string where(const toml::node& n, const std::string& key) const {
    return fmt::format("{}:{}: key {}", file, n.source().begin.line, key);
  }
  std::string str(const toml::node& n, const std::string& key) const {
    auto v = n.value<std::string>();
    SHOG_CHECK(v.has_value(), ErrorKind::invalid_argument, where(n, key), "must be a string");
    return *v;
  }
  std::vector<std::string> strings(const toml::node& n, const std::string& key) const {
    auto* arr = n.as_array();
    SHOG_CHECK(arr, ErrorKind::invalid_argument, where(n, key), "must be an array of strings");
    std::vector<std::string> out;
    for (size_t i = 0; i < arr->size(); ++i) out.push_back(str(*arr->get(i), fmt::format("{}[{}]", key, i)));
    return out;
  }
  const toml::table& table(const toml::node& n, const std::string& key) const {
    auto* t = n.as_table();
    SHOG_CHECK(t, ErrorKind::invalid_argument, where(n, key), "must be a table");
    return *t;
  }
  int64_t integer(const toml::node& n, const std::string& key, int64_t lo, int64_t hi) const {
    auto v = n.value<int64_t>();
    SHOG_CHECK(v.has_value() && n.is_integer(), ErrorKind::invalid_argument, where(n, key), "must be an integer");
    SHOG_CHECK(*v >= lo && *v <= hi, ErrorKind::invalid_argument, where(n, key), "must be in [{}, {}], got {}", lo, hi,
               *v);
    return *v;
  }
  bool boolean(const toml::node& n, const std::string& key) const {
    auto v = n.value<bool>();
    SHOG_CHECK(v.has_value(), ErrorKind::invalid_argument, where(n, key), "must be true or false");
    return *v;
  }
  void check_category(const toml::node& n, const std::string& key, const std::string& id) const {
    SHOG_CHECK(cats.contains(id), ErrorKind::invalid_argument, where(n, key),
               "unknown category '{}' (declare custom ones under [categories.{}])", id, id);
  }

  void parse_categories(const toml::table& t) {
    for (auto&& [k, node] : t) {
      const std::string id(k.str()), key = "categories." + id;
      CategoryInfo info;
      info.id = id;
      for (auto&& [fk, fv] : table(node, key)) {
        const std::string f(fk.str()), fkey = key + "." + f;
        if (f == "title") info.title = str(fv, fkey);
        else if (f == "description") str(fv, fkey);
        else if (f == "openai") info.openai = strings(fv, fkey);
        else throw Error(ErrorKind::invalid_argument, where(fv, fkey), "unknown key (expected title, description, openai)");
      }
      cats.add_custom(std::move(info), where(node, key));
    }
  }

  void parse_rules(const toml::table& t) {
    for (auto&& [k, node] : t) {
      const std::string id(k.str()), key = "rules." + id;
      check_category(node, key, id);
      for (auto&& [fk, fv] : table(node, key)) {
        const std::string f(fk.str()), fkey = key + "." + f;
        if (f == "phrases") {
          for (const auto& s : strings(fv, fkey)) rules.add_phrase(id, s, where(fv, fkey));
        } else if (f == "patterns") {
          for (const auto& s : strings(fv, fkey)) rules.add_pattern(id, s, where(fv, fkey));
        } else {
          throw Error(ErrorKind::invalid_argument, where(fv, fkey), "unknown key (expected phrases, patterns)");
        }
      }
    }
  }

  // One layer of category settings: a string (the action) or a table with
  // threshold and/or action; fields not given keep the lower layer's value.
  void apply_rule(const toml::node& n, const std::string& key, CategoryRule& r) const {
    if (n.is_string()) {
      r.action = parse_action(str(n, key), where(n, key));
      return;
    }
    for (auto&& [fk, fv] : table(n, key)) {
      const std::string f(fk.str()), fkey = key + "." + f;
      if (f == "threshold") {
        auto v = fv.value<double>();
        SHOG_CHECK(v.has_value() && *v >= 0 && *v <= 1, ErrorKind::invalid_argument, where(fv, fkey),
                   "must be a number in [0, 1]");
        r.threshold = float(*v);
      } else if (f == "action") {
        r.action = parse_action(str(fv, fkey), where(fv, fkey));
      } else {
        throw Error(ErrorKind::invalid_argument, where(fv, fkey), "unknown key (expected threshold, action)");
      }
    }
  }

  void resolve(const std::string& name, std::vector<std::string>& stack) {
    if (policies.count(name)) return;
    const std::string key = "policies." + name;
    const toml::node* pnode = root["policies"][name].node();
    const toml::table& pt = table(*pnode, key);
    SHOG_CHECK(std::find(stack.begin(), stack.end(), name) == stack.end(), ErrorKind::invalid_argument,
               where(*pnode, key), "'extends' forms a cycle: {} -> {}", fmt::join(stack, " -> "), name);
    Policy p = none_policy(cats);
    p.description.clear();
    p.use_rules = p.use_classifier = true;
    if (const toml::node* ext = pt.get("extends")) {
      const std::string base = str(*ext, key + ".extends");
      if (base != "none") {
        SHOG_CHECK(root["policies"][base].is_table(), ErrorKind::invalid_argument, where(*ext, key + ".extends"),
                   "no policy '{}' to extend", base);
        stack.push_back(name);
        resolve(base, stack);
        stack.pop_back();
        p = policies.at(base);
      }
    }
    p.name = name;
    const toml::table* both = nullptr;
    const toml::table* dir[2] = {nullptr, nullptr};
    for (auto&& [k, v] : pt) {
      const std::string f(k.str()), fkey = key + "." + f;
      if (f == "extends") continue;
      else if (f == "description") p.description = str(v, fkey);
      else if (f == "output_mode") {
        const std::string m = str(v, fkey);
        SHOG_CHECK(m == "hold_back" || m == "stream_first", ErrorKind::invalid_argument, where(v, fkey),
                   "must be \"hold_back\" or \"stream_first\", got '{}'", m);
        p.output_mode = m == "hold_back" ? OutputMode::hold_back : OutputMode::stream_first;
      } else if (f == "window") p.window = integer(v, fkey, 0, 1 << 20);
      else if (f == "chunk") p.chunk = integer(v, fkey, 1, 1 << 20);
      else if (f == "refusal") p.refusal = str(v, fkey);
      else if (f == "block_message") p.block_message = str(v, fkey);
      else if (f == "redaction") p.redaction = str(v, fkey);
      else if (f == "log_text") p.log_text = boolean(v, fkey);
      else if (f == "rules") p.use_rules = boolean(v, fkey);
      else if (f == "classifier") p.use_classifier = boolean(v, fkey);
      else if (f == "categories") both = &table(v, fkey);
      else if (f == "input") dir[0] = &table(v, fkey);
      else if (f == "output") dir[1] = &table(v, fkey);
      else
        throw Error(ErrorKind::invalid_argument, where(v, fkey),
                    "unknown key (expected description, extends, output_mode, window, chunk, refusal, block_message, "
                    "redaction, log_text, rules, classifier, categories, input, output)");
    }
    for (int d = 0; d < 2; ++d) {
      auto& m = d == 0 ? p.input : p.output;
      const std::string dkey = key + "." + (d == 0 ? "input" : "output");
      // Wildcards first, then per-category entries; direction-specific last in each pass.
      for (int pass = 0; pass < 2; ++pass) {
        for (const auto& [t, tkey] : {std::pair{both, key + ".categories"}, std::pair{dir[d], dkey}}) {
          if (!t) continue;
          for (auto&& [k, v] : *t) {
            const std::string id(k.str()), ckey = tkey + "." + id;
            if ((id == "*") != (pass == 0)) continue;
            if (id == "*") {
              for (auto& [cid, r] : m) apply_rule(v, ckey, r);
            } else {
              check_category(v, ckey, id);
              apply_rule(v, ckey, m[id]);
            }
          }
        }
      }
    }
    policies[name] = std::move(p);
  }

  void parse() {
    // Categories first: rules and policies may name custom ones.
    if (const toml::node* c = root.get("categories")) parse_categories(table(*c, "categories"));
    for (auto&& [k, v] : root) {
      const std::string f(k.str());
      SHOG_CHECK(f == "categories" || f == "rules" || f == "policies", ErrorKind::invalid_argument, where(v, f),
                 "unknown top-level key (expected categories, rules, policies)");
    }
    if (const toml::node* r = root.get("rules")) parse_rules(table(*r, "rules"));
    policies["none"] = none_policy(cats);
    if (const toml::node* ps = root.get("policies")) {
      for (auto&& [k, v] : table(*ps, "policies")) {
        const std::string name(k.str());
        SHOG_CHECK(name != "none", ErrorKind::invalid_argument, where(v, "policies.none"),
                   "'none' is built in and cannot be redefined");
        SHOG_CHECK(!name.empty() && name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string::npos,
                   ErrorKind::invalid_argument, where(v, "policies." + name),
                   "policy names are lowercase letters, digits, '_' and '-'");
        std::vector<std::string> stack;
        resolve(name, stack);
      }
    }
  }
};

}  // namespace

PolicySet::PolicySet() { policies_["none"] = none_policy(categories_); }

PolicySet PolicySet::load(const std::string& path) {
  SHOG_CHECK(file_exists(path), ErrorKind::io, path, "no such policy file");
  return parse(read_file(path), path);
}

PolicySet PolicySet::parse(std::string_view text, const std::string& name) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw Error(ErrorKind::invalid_argument, fmt::format("{}:{}:{}", name, e.source().begin.line, e.source().begin.column),
                fmt::format("TOML syntax: {}", e.description()));
  }
  PolicySet s;
  s.policies_.clear();
  Parser p{name, root, s.categories_, s.rules_, s.policies_};
  p.parse();
  return s;
}

const Policy& PolicySet::get(const std::string& policy) const {
  auto it = policies_.find(policy);
  SHOG_CHECK(it != policies_.end(), ErrorKind::invalid_argument, "policy " + policy,
             "no such policy (known: {})", fmt::join(names(), ", "));
  return it->second;
}

std::vector<std::string> PolicySet::names() const {
  std::vector<std::string> n;
  for (const auto& [k, v] : policies_) n.push_back(k);
  return n;
}

}  // namespace shog
