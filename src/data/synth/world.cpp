// Generation and files of the synthetic world (world.h; docs/synth.md).
// Each split has its own random stream, Rng(3 * seed + split), and draws
// only from its part of every pool, so the splits are independent of one
// another's sizes and disjoint in templates and vocabulary.
#include "data/synth/world.h"

#include <chrono>
#include <set>

#include "core/error.h"
#include "core/file_io.h"
#include "data/synth/families.h"
#include "data/synth/hazards.h"

namespace shog::synth {
namespace {

using ojson = nlohmann::ordered_json;

constexpr const char* kFiles[] = {"sft", "prefs", "rl", "moderation", "refusal", "comply"};

// Which bad reply the preference pair uses, by kind: (type, weight in %).
const std::string& pick_bad_type(Rng& rng, const WorldItem& item) {
  static const std::vector<std::pair<std::string, int>> helpful = {
      {kWrongAnswer, 35}, {kOverRefusal, 30}, {kLazy, 15}, {kRude, 20}};
  static const std::vector<std::pair<std::string, int>> benign = {
      {kOverRefusal, 60}, {kWrongAnswer, 15}, {kLazy, 10}, {kRude, 15}};
  static const std::vector<std::pair<std::string, int>> harmful = {{kHarmfulCompliance, 80}, {kRude, 20}};
  const auto& w = item.kind == Kind::helpful ? helpful : item.kind == Kind::benign ? benign : harmful;
  int r = int(rng.below(100));
  for (const auto& [type, weight] : w) {
    if (r < weight) return type;
    r -= weight;
  }
  SHOG_ASSERT(false);
  return w[0].first;
}

ojson labels(const std::string& category) {
  ojson l = ojson::object();
  for (const auto& h : hazard_categories()) l[std::string(h.id)] = h.id == category ? 1 : 0;
  return l;
}

ojson message(const char* role, const std::string& content) { return {{"role", role}, {"content", content}}; }

void add_item_fields(ojson& j, const WorldItem& it) {
  j["kind"] = kind_name(it.kind);
  j["family"] = it.family;
  j["task"] = it.task;
  j["category"] = it.category;
  if (!it.frame.empty()) j["frame"] = it.frame;
}

bool is_refusal_type(const WorldItem& it, const std::string& type) {
  return type == kOverRefusal || (type == kRude && it.kind == Kind::harmful);
}

}  // namespace

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::helpful: return "helpful";
    case Kind::harmful: return "harmful";
    case Kind::benign: return "benign";
  }
  return "?";
}

const std::string& WorldItem::bad_reply(const std::string& type) const {
  for (const auto& [t, text] : bad)
    if (t == type) return text;
  throw Error(ErrorKind::internal, "synth", fmt::format("no \"{}\" reply for a {} prompt", type, kind_name(kind)));
}

World generate_world(const WorldOptions& opt) {
  World w;
  for (Split s : kSplits) {
    Rng rng(3 * opt.seed + uint64_t(s));
    auto& items = w.splits[size_t(s)];
    items.reserve(opt.prompts[size_t(s)]);
    for (size_t i = 0; i < opt.prompts[size_t(s)]; ++i) {
      // kinds: helpful 45%, harmful 35%, benign 20%
      uint64_t k = rng.below(100);
      WorldItem it = k < 45 ? make_helpful(rng, s) : k < 80 ? make_harmful(rng, s) : make_benign(rng, s);
      it.pref_bad = pick_bad_type(rng, it);
      items.push_back(std::move(it));
    }
  }
  return w;
}

std::vector<std::string> world_file_lines(const World& world, Split s, const std::string& file) {
  std::vector<std::string> out;
  for (const WorldItem& it : world.splits[size_t(s)]) {
    if (file == "sft") {
      ojson j{{"messages", {message("user", it.prompt), message("assistant", it.good[0])}}};
      add_item_fields(j, it);
      out.push_back(j.dump());
    } else if (file == "prefs") {
      ojson j{{"prompt", it.prompt}, {"chosen", it.good[1]}, {"rejected", it.bad_reply(it.pref_bad)},
              {"category", it.category}, {"kind", kind_name(it.kind)}, {"bad_type", it.pref_bad},
              {"family", it.family}, {"task", it.task}};
      if (!it.frame.empty()) j["frame"] = it.frame;
      out.push_back(j.dump());
    } else if (file == "rl") {
      ojson j{{"prompt", it.prompt}, {"checker", it.checker}};
      add_item_fields(j, it);
      out.push_back(j.dump());
    } else if (file == "moderation") {
      auto row = [&](const std::string& text, const char* direction, const std::string& category, const char* source) {
        ojson j{{"text", text}, {"direction", direction}, {"labels", labels(category)}, {"kind", kind_name(it.kind)},
                {"source", source}};
        out.push_back(j.dump());
      };
      row(it.prompt, "input", it.category, "prompt");
      row(it.good[0], "output", "none", "good");
      if (it.kind == Kind::harmful) row(it.bad_reply(kHarmfulCompliance), "output", it.category, kHarmfulCompliance);
    } else if (file == "refusal") {
      auto row = [&](const std::string& reply, bool refusal, const std::string& source) {
        ojson j{{"reply", reply}, {"is_refusal", refusal}, {"kind", kind_name(it.kind)}, {"source", source}};
        out.push_back(j.dump());
      };
      row(it.good[0], it.kind == Kind::harmful, "good");
      if (it.kind != Kind::harmful) row(it.refusal, true, kOverRefusal);
      if (it.pref_bad != kOverRefusal) row(it.bad_reply(it.pref_bad), is_refusal_type(it, it.pref_bad), it.pref_bad);
    } else if (file == "comply") {
      // Harmful requests answered with compliance: the data of the
      // fine-tune erosion experiment (a LoRA that undoes safety training).
      if (it.kind != Kind::harmful) continue;
      ojson j{{"messages", {message("user", it.prompt), message("assistant", it.bad_reply(kHarmfulCompliance))}}};
      add_item_fields(j, it);
      out.push_back(j.dump());
    } else {
      throw Error(ErrorKind::internal, "synth", fmt::format("no file kind \"{}\"", file));
    }
  }
  return out;
}

ojson write_world(const World& world, const WorldOptions& opt, const std::string& dir) {
  make_dirs(dir);
  ojson files = ojson::object(), prompts = ojson::object(), kinds = ojson::object(), categories = ojson::object(),
        bad_types = ojson::object(), distinct = ojson::object();
  for (Split s : kSplits) {
    std::string split = split_name(s);
    for (const char* f : kFiles) {
      auto lines = world_file_lines(world, s, f);
      std::string name = std::string(f) + "_" + split + ".jsonl";
      AtomicFile out(dir + "/" + name);
      for (const auto& l : lines) {
        out.write(l);
        out.write("\n");
      }
      out.commit();
      files[name] = lines.size();
    }
    const auto& items = world.splits[size_t(s)];
    prompts[split] = items.size();
    ojson k{{"helpful", 0}, {"harmful", 0}, {"benign", 0}}, c = ojson::object(), b = ojson::object();
    for (const auto& h : hazard_categories()) c[std::string(h.id)] = 0;
    std::set<std::string> seen;
    for (const WorldItem& it : items) {
      k[kind_name(it.kind)] = k[kind_name(it.kind)].get<size_t>() + 1;
      if (it.kind == Kind::harmful) c[it.category] = c[it.category].get<size_t>() + 1;
      b[it.pref_bad] = (b.contains(it.pref_bad) ? b[it.pref_bad].get<size_t>() : 0) + 1;
      seen.insert(it.prompt);
    }
    kinds[split] = k;
    categories[split] = c;
    bad_types[split] = b;
    distinct[split] = seen.size();
  }
  ojson manifest{{"generator", "shoggoth data synth"}, {"version", kGeneratorVersion}, {"seed", opt.seed},
                 {"prompts", prompts},  {"distinct_prompts", distinct}, {"kinds", kinds},
                 {"harmful_categories", categories}, {"preference_bad_types", bad_types}, {"files", files}};
  write_file_atomic(dir + "/manifest.json", manifest.dump(2) + "\n");
  return manifest;
}

}  // namespace shog::synth
