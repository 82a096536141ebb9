#include "moderation/categories.h"

#include <algorithm>

#include "core/error.h"

namespace shog {

const std::vector<CategoryInfo>& builtin_categories() {
  // The mapping to OpenAI's names is by meaning; categories OpenAI has no
  // name for (specialized advice, privacy, intellectual property, elections)
  // map to none and appear only in the "shoggoth" part of a result.
  static const std::vector<CategoryInfo> c = {
      {"violent_crimes", "Violent crimes", {"violence", "illicit/violent"}},
      {"nonviolent_crimes", "Non-violent crimes", {"illicit"}},
      {"sex_crimes", "Sex-related crimes", {"sexual", "illicit/violent"}},
      {"child_exploitation", "Child sexual exploitation", {"sexual/minors"}},
      {"defamation", "Defamation", {"harassment"}},
      {"specialized_advice", "Specialized advice", {}},
      {"privacy", "Privacy", {}},
      {"intellectual_property", "Intellectual property", {}},
      {"indiscriminate_weapons", "Indiscriminate weapons", {"illicit/violent", "violence"}},
      {"hate", "Hate", {"hate", "harassment"}},
      {"self_harm", "Suicide and self-harm", {"self-harm", "self-harm/intent", "self-harm/instructions"}},
      {"sexual_content", "Sexual content", {"sexual"}},
      {"elections", "Elections", {}},
  };
  return c;
}

const std::vector<std::string>& openai_category_names() {
  static const std::vector<std::string> n = {
      "harassment", "harassment/threatening", "hate",     "hate/threatening",      "illicit",
      "illicit/violent", "self-harm",          "self-harm/intent", "self-harm/instructions", "sexual",
      "sexual/minors",   "violence",           "violence/graphic"};
  return n;
}

bool valid_category_id(std::string_view id) {
  if (id.empty() || id.size() > 64 || !(id[0] >= 'a' && id[0] <= 'z')) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

CategorySet::CategorySet() : cats_(builtin_categories()) {}

void CategorySet::add_custom(CategoryInfo info, const std::string& where) {
  SHOG_CHECK(valid_category_id(info.id), ErrorKind::invalid_argument, where,
             "category id '{}' must be lowercase letters, digits and '_', starting with a letter", info.id);
  SHOG_CHECK(!contains(info.id), ErrorKind::invalid_argument, where, "category '{}' is already defined", info.id);
  for (const auto& n : info.openai) {
    const auto& names = openai_category_names();
    SHOG_CHECK(std::find(names.begin(), names.end(), n) != names.end(), ErrorKind::invalid_argument, where,
               "'{}' is not an OpenAI moderation category (one of: {})", n, fmt::join(names, ", "));
  }
  info.builtin = false;
  if (info.title.empty()) info.title = info.id;
  cats_.push_back(std::move(info));
}

const CategoryInfo* CategorySet::find(std::string_view id) const {
  for (const auto& c : cats_)
    if (c.id == id) return &c;
  return nullptr;
}

nlohmann::json openai_moderation_result(const CategorySet& cats, const std::map<std::string, float>& scores,
                                        const std::vector<std::string>& flagged_ids) {
  nlohmann::json categories = nlohmann::json::object(), category_scores = nlohmann::json::object();
  for (const auto& n : openai_category_names()) {
    categories[n] = false;
    category_scores[n] = 0.0;
  }
  nlohmann::json ours_flags = nlohmann::json::object(), ours_scores = nlohmann::json::object();
  auto is_flagged = [&](const std::string& id) {
    return std::find(flagged_ids.begin(), flagged_ids.end(), id) != flagged_ids.end();
  };
  for (const auto& c : cats.all()) {
    auto it = scores.find(c.id);
    const float s = it == scores.end() ? 0.0f : it->second;
    const bool f = is_flagged(c.id);
    ours_flags[c.id] = f;
    ours_scores[c.id] = s;
    for (const auto& n : c.openai) {
      category_scores[n] = std::max(category_scores[n].get<double>(), double(s));
      if (f) categories[n] = true;
    }
  }
  return {{"flagged", !flagged_ids.empty()},
          {"categories", categories},
          {"category_scores", category_scores},
          {"shoggoth", {{"categories", ours_flags}, {"category_scores", ours_scores}}}};
}

}  // namespace shog
