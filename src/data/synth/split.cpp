#include "data/synth/split.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <set>

#include "core/error.h"

namespace shog::synth {

const char* split_name(Split s) {
  switch (s) {
    case Split::train: return "train";
    case Split::val: return "val";
    case Split::test: return "test";
  }
  return "?";
}

uint64_t fnv1a(std::string_view s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

Split split_of_key(std::string_view space, std::string_view key, double hold_fraction) {
  uint64_t h = fnv1a(key, fnv1a("\n", fnv1a(space)));
  h ^= h >> 33;  // FNV's low bits mix poorly for short keys; finish like splitmix
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  double u = double(h >> 11) * 0x1.0p-53;
  if (u < hold_fraction) return Split::test;
  if (u < 2 * hold_fraction) return Split::val;
  return Split::train;
}

Partition::Partition(std::string_view pool, const std::vector<std::string>& keys, double hold_fraction,
                     size_t min_hold) {
  size_t n = keys.size();
  size_t hold = std::max(min_hold, size_t(std::lround(hold_fraction * double(n))));
  SHOG_CHECK(n >= 2 * hold + 1, ErrorKind::internal, std::string(pool),
             "pool of {} items cannot hold out {} per split", n, hold);
  std::set<std::string_view> seen(keys.begin(), keys.end());
  SHOG_CHECK(seen.size() == n, ErrorKind::internal, std::string(pool), "pool has duplicate items");
  std::vector<std::pair<uint64_t, size_t>> order;
  uint64_t base = fnv1a("\n", fnv1a(pool));
  for (size_t i = 0; i < n; ++i) order.push_back({fnv1a(keys[i], base), i});
  std::sort(order.begin(), order.end());
  for (size_t r = 0; r < n; ++r) {
    Split s = r < hold ? Split::test : r < 2 * hold ? Split::val : Split::train;
    part_[size_t(s)].push_back(order[r].second);
  }
  for (auto& p : part_) std::sort(p.begin(), p.end());
}

Split Partition::split_of(size_t index) const {
  for (Split s : kSplits)
    if (std::binary_search(part_[size_t(s)].begin(), part_[size_t(s)].end(), index)) return s;
  SHOG_ASSERT(false);
  return Split::train;
}

namespace {
std::mutex registry_mutex;
std::vector<PoolRecord>& registry() {
  static std::vector<PoolRecord> r;
  return r;
}
}  // namespace

std::vector<PoolRecord> registered_pools() {
  std::lock_guard<std::mutex> lock(registry_mutex);
  return registry();
}

Pool::Pool(std::string name, std::vector<std::string> items, double hold_fraction, size_t min_hold)
    : name_(std::move(name)), items_(std::move(items)), partition_(name_, items_, hold_fraction, min_hold) {
  PoolRecord rec{name_, items_, {}};
  for (size_t i = 0; i < items_.size(); ++i) rec.split.push_back(partition_.split_of(i));
  std::lock_guard<std::mutex> lock(registry_mutex);
  registry().push_back(std::move(rec));
}

size_t Pool::pick_index(Rng& rng, Split s, Provenance& prov) const {
  const auto& part = partition_.part(s);
  size_t i = part[rng.below(part.size())];
  prov.push_back(name_ + "#" + std::to_string(i));
  return i;
}

std::string fill(std::string_view tmpl, const Vars& vars) {
  std::string out;
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] != '{') {
      out += tmpl[i++];
      continue;
    }
    size_t close = tmpl.find('}', i);
    SHOG_ASSERT(close != std::string_view::npos);
    std::string_view key = tmpl.substr(i + 1, close - i - 1);
    auto it = std::find_if(vars.begin(), vars.end(), [&](const auto& kv) { return kv.first == key; });
    SHOG_CHECK(it != vars.end(), ErrorKind::internal, "synth template", "no value for {{{}}} in \"{}\"", key, tmpl);
    out += it->second;
    i = close + 1;
  }
  return out;
}

std::string capitalize(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = char(s[0] - 'a' + 'A');
  return s;
}

}  // namespace shog::synth
