#include "train/config_fields.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <map>
#include <sstream>
#include <toml++/toml.h>

#include "core/error.h"

namespace shog {

void ConfigFields::add(std::string path, std::string help, int64_t* dst) { fields_.push_back({std::move(path), std::move(help), dst, {}}); }
void ConfigFields::add(std::string path, std::string help, double* dst) { fields_.push_back({std::move(path), std::move(help), dst, {}}); }
void ConfigFields::add(std::string path, std::string help, float* dst) { fields_.push_back({std::move(path), std::move(help), dst, {}}); }
void ConfigFields::add(std::string path, std::string help, bool* dst) { fields_.push_back({std::move(path), std::move(help), dst, {}}); }
void ConfigFields::add(std::string path, std::string help, std::string* dst) { fields_.push_back({std::move(path), std::move(help), dst, {}}); }
void ConfigFields::add(std::string path, std::string help, std::vector<std::string>* dst) {
  fields_.push_back({std::move(path), std::move(help), dst, {}});
}

static double parse_number(const std::string& s, const std::string& where) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (...) {
    used = 0;
  }
  SHOG_CHECK(used == s.size() && !s.empty(), ErrorKind::invalid_argument, where, "'{}' is not a number", s);
  return v;
}

void ConfigFields::set_from_string(Field& f, const std::string& value, const std::string& where) {
  std::visit(
      [&](auto* p) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          int64_t v = 0;
          auto r = std::from_chars(value.data(), value.data() + value.size(), v);
          SHOG_CHECK(r.ec == std::errc() && r.ptr == value.data() + value.size(), ErrorKind::invalid_argument, where,
                     "'{}' is not an integer", value);
          *p = v;
        } else if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
          *p = T(parse_number(value, where));
        } else if constexpr (std::is_same_v<T, bool>) {
          SHOG_CHECK(value == "true" || value == "false" || value == "1" || value == "0", ErrorKind::invalid_argument,
                     where, "'{}' is not a boolean (true/false)", value);
          *p = value == "true" || value == "1";
        } else if constexpr (std::is_same_v<T, std::string>) {
          *p = value;
        } else {
          p->clear();
          std::stringstream ss(value);
          for (std::string item; std::getline(ss, item, ',');)
            if (!item.empty()) p->push_back(item);
        }
      },
      f.dst);
}

void ConfigFields::load_toml(const std::string& file) {
  toml::table tbl;
  try {
    tbl = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    throw Error(ErrorKind::invalid_argument, fmt::format("{}:{}:{}", file, e.source().begin.line, e.source().begin.column),
                fmt::format("TOML syntax: {}", e.description()));
  }
  std::map<std::string, Field*> by_path;
  for (auto& f : fields_) by_path[f.path] = &f;
  // Walk every leaf so an unknown (e.g. misspelled) key is an error, not ignored.
  std::function<void(const toml::table&, const std::string&)> walk = [&](const toml::table& t, const std::string& prefix) {
    for (auto&& [k, node] : t) {
      std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
      std::string where = fmt::format("{}:{}: key {}", file, node.source().begin.line, path);
      if (auto* sub = node.as_table()) {
        walk(*sub, path);
        continue;
      }
      auto it = by_path.find(path);
      SHOG_CHECK(it != by_path.end(), ErrorKind::invalid_argument, where, "unknown key");
      Field& f = *it->second;
      std::visit(
          [&](auto* p) {
            using T = std::remove_pointer_t<decltype(p)>;
            if constexpr (std::is_same_v<T, int64_t>) {
              auto v = node.value<int64_t>();
              SHOG_CHECK(v && node.is_integer(), ErrorKind::invalid_argument, where, "must be an integer");
              *p = *v;
            } else if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) {
              auto v = node.value<double>();
              SHOG_CHECK(v.has_value(), ErrorKind::invalid_argument, where, "must be a number");
              *p = T(*v);
            } else if constexpr (std::is_same_v<T, bool>) {
              auto v = node.value<bool>();
              SHOG_CHECK(v.has_value(), ErrorKind::invalid_argument, where, "must be true or false");
              *p = *v;
            } else if constexpr (std::is_same_v<T, std::string>) {
              auto v = node.value<std::string>();
              SHOG_CHECK(v.has_value(), ErrorKind::invalid_argument, where, "must be a string");
              *p = *v;
            } else {
              p->clear();
              if (auto v = node.value<std::string>()) {
                p->push_back(*v);
              } else {
                auto* arr = node.as_array();
                SHOG_CHECK(arr, ErrorKind::invalid_argument, where, "must be a string or an array of strings");
                for (auto& item : *arr) {
                  auto s = item.value<std::string>();
                  SHOG_CHECK(s.has_value(), ErrorKind::invalid_argument, where, "array items must be strings");
                  p->push_back(*s);
                }
              }
            }
          },
          f.dst);
    }
  };
  walk(tbl, "");
}

void ConfigFields::add_flags(CLI::App& app) {
  std::map<std::string, int> leaf_count;
  for (auto& f : fields_) leaf_count[f.path.substr(f.path.rfind('.') + 1)]++;
  for (auto& f : fields_) {
    std::string leaf = f.path.substr(f.path.rfind('.') + 1);
    std::string names = "--" + f.path;
    if (leaf_count[leaf] == 1) {
      std::string dashed = leaf;
      for (auto& c : dashed)
        if (c == '_') c = '-';
      names += ",--" + dashed;
    }
    app.add_option(names, f.flag_values, f.help + " [" + f.path + "]")->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  }
}

void ConfigFields::apply_flags() {
  for (auto& f : fields_)
    if (!f.flag_values.empty()) set_from_string(f, f.flag_values.back(), "--" + f.path);
}

std::string ConfigFields::to_toml() const {
  std::map<std::string, std::vector<const Field*>> sections;
  for (auto& f : fields_) sections[f.path.substr(0, f.path.rfind('.'))].push_back(&f);
  std::string out;
  for (auto& [sec, fs] : sections) {
    out += "[" + sec + "]\n";
    for (auto* f : fs) {
      std::string key = f->path.substr(f->path.rfind('.') + 1);
      std::string val = std::visit(
          [](auto* p) -> std::string {
            using T = std::remove_pointer_t<decltype(p)>;
            if constexpr (std::is_same_v<T, bool>) return *p ? "true" : "false";
            else if constexpr (std::is_same_v<T, std::string>) return fmt::format("{:?}", *p);
            else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
              std::string r = "[";
              for (size_t i = 0; i < p->size(); ++i) r += (i ? ", " : "") + fmt::format("{:?}", (*p)[i]);
              return r + "]";
            } else return fmt::format("{}", *p);
          },
          f->dst);
      out += key + " = " + val + "\n";
    }
    out += "\n";
  }
  return out;
}

}  // namespace shog
