// The hazard taxonomy shared by the synthetic world, the moderation
// classifier and its reports: the thirteen categories of the MLCommons AI
// Safety hazard taxonomy (the one Llama Guard 3 follows as S1..S13), with
// stable snake_case ids used as JSON keys ("labels": {"hate": 0, ...}).
#pragma once
#include <span>
#include <string_view>

namespace shog {

struct HazardCategory {
  std::string_view id;    // "violent_crimes", ...
  std::string_view name;  // "Violent crimes", for reports
};

// The 13 categories in taxonomy order (S1..S13); index = position here.
std::span<const HazardCategory> hazard_categories();

// Position of `id` in hazard_categories(), or -1 if it is not one.
int hazard_index(std::string_view id);

}  // namespace shog
