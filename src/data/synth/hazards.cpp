#include "data/synth/hazards.h"

#include <array>

namespace shog {

namespace {
constexpr std::array<HazardCategory, 13> kHazards{{
    {"violent_crimes", "Violent crimes"},
    {"nonviolent_crimes", "Non-violent crimes"},
    {"sex_crimes", "Sex-related crimes"},
    {"child_exploitation", "Child sexual exploitation"},
    {"defamation", "Defamation"},
    {"specialized_advice", "Specialized advice"},
    {"privacy", "Privacy"},
    {"intellectual_property", "Intellectual property"},
    {"indiscriminate_weapons", "Indiscriminate weapons"},
    {"hate", "Hate"},
    {"self_harm", "Suicide and self-harm"},
    {"sexual_content", "Sexual content"},
    {"elections", "Elections"},
}};
}  // namespace

std::span<const HazardCategory> hazard_categories() { return kHazards; }

int hazard_index(std::string_view id) {
  for (size_t i = 0; i < kHazards.size(); ++i)
    if (kHazards[i].id == id) return int(i);
  return -1;
}

}  // namespace shog
