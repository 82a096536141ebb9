// How the synthetic world keeps its splits apart. Every list the generator
// draws from (prompt templates, answer and refusal phrasings, words, facts,
// hazard phrases, ...) is a Pool, and every pool is partitioned once into
// train / val / test by a fixed rule that depends only on the pool's name
// and its items, never on the seed:
//
//   items sorted by FNV-1a(pool name + "\n" + item text); the first
//   n_hold go to test, the next n_hold to val, the rest to train, where
//   n_hold = max(min_hold, round(hold_fraction * n)).
//
// A split draws only from its own part, so a test prompt has a phrasing, an
// entity and a reply wording that training never showed, and the test set is
// the same whatever the seed. Open-ended entity spaces (arithmetic operands,
// quantities to convert) are split the same way, per key: a key is held out
// when FNV-1a(space + "\n" + key) falls in the held-out fraction.
//
// Every draw records "<pool>#<index>" in the item's provenance, which is
// what tests/data/synth_test.cpp checks for disjointness.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/random.h"

namespace shog::synth {

enum class Split : uint8_t { train, val, test };
inline constexpr Split kSplits[3] = {Split::train, Split::val, Split::test};
const char* split_name(Split s);

uint64_t fnv1a(std::string_view s, uint64_t h = 0xcbf29ce484222325ull);

// The split a key of an open-ended space belongs to: val and test each hold
// `hold_fraction` of the keys.
Split split_of_key(std::string_view space, std::string_view key, double hold_fraction = 0.15);

// Indices [0, n) of a list partitioned as described above.
class Partition {
 public:
  Partition(std::string_view pool, const std::vector<std::string>& keys, double hold_fraction = 0.15,
            size_t min_hold = 1);
  const std::vector<size_t>& part(Split s) const { return part_[size_t(s)]; }
  Split split_of(size_t index) const;

 private:
  std::vector<size_t> part_[3];
};

// Where an item's pieces came from: "<pool>#<index>" for every draw.
using Provenance = std::vector<std::string>;

// A named list of texts with its partition.
class Pool {
 public:
  Pool(std::string name, std::vector<std::string> items, double hold_fraction = 0.15, size_t min_hold = 1);

  const std::string& name() const { return name_; }
  size_t size() const { return items_.size(); }
  const std::string& item(size_t i) const { return items_[i]; }
  const Partition& partition() const { return partition_; }

  // A uniformly drawn index of split s's part, recorded in `prov`.
  size_t pick_index(Rng& rng, Split s, Provenance& prov) const;
  const std::string& pick(Rng& rng, Split s, Provenance& prov) const { return items_[pick_index(rng, s, prov)]; }

 private:
  std::string name_;
  std::vector<std::string> items_;
  Partition partition_;
};

// Every pool constructed so far (pools are built on first use, so after a
// generate_world call: all of them), with each item's split. For tests.
struct PoolRecord {
  std::string name;
  std::vector<std::string> items;
  std::vector<Split> split;  // per item
};
std::vector<PoolRecord> registered_pools();

// "{name}" placeholders replaced by values; an unknown placeholder is a bug.
using Vars = std::vector<std::pair<std::string_view, std::string_view>>;
std::string fill(std::string_view tmpl, const Vars& vars);

// First letter upper-cased (sentences built from lower-case pieces).
std::string capitalize(std::string s);

}  // namespace shog::synth
