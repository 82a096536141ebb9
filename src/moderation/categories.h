// The moderation taxonomy: the thirteen hazard categories of the MLCommons
// AI Safety taxonomy (v1.0), under short snake_case ids, plus custom
// categories a policy file declares. Each category maps to zero or more of
// the OpenAI moderation endpoint's names, so that POST /v1/moderations can
// answer in that shape (the table is in docs/moderation.md).
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace shog {

struct CategoryInfo {
  std::string id;                     // "violent_crimes"
  std::string title;                  // "Violent crimes"
  std::vector<std::string> openai;    // "violence", "illicit/violent"; may be empty
  bool builtin = true;
};

// The thirteen built-in categories, in the taxonomy's order.
const std::vector<CategoryInfo>& builtin_categories();
// The OpenAI moderation category names, in the order its API lists them.
const std::vector<std::string>& openai_category_names();

// Built-in plus custom categories; ids are unique.
class CategorySet {
 public:
  CategorySet();  // the built-ins
  // Throws shog::Error(invalid_argument, where) on a duplicate or malformed id
  // or an OpenAI name that is not one of openai_category_names().
  void add_custom(CategoryInfo info, const std::string& where);

  const std::vector<CategoryInfo>& all() const { return cats_; }
  const CategoryInfo* find(std::string_view id) const;
  bool contains(std::string_view id) const { return find(id) != nullptr; }
  size_t size() const { return cats_.size(); }

 private:
  std::vector<CategoryInfo> cats_;
};

// Ids are lowercase ASCII letters, digits and '_', starting with a letter.
bool valid_category_id(std::string_view id);

// One result of /v1/moderations in OpenAI's shape:
//   {"flagged": bool, "categories": {name: bool}, "category_scores": {name: float}}
// for every OpenAI name, each name's score the maximum over our categories
// mapped to it and flagged if any of them is; plus our own per-category view
// under "shoggoth": {"categories": {...}, "category_scores": {...}} so that
// categories with no OpenAI counterpart are not lost. `flagged_ids` are our
// categories whose action was anything but allow.
nlohmann::json openai_moderation_result(const CategorySet& cats, const std::map<std::string, float>& scores,
                                        const std::vector<std::string>& flagged_ids);

}  // namespace shog
