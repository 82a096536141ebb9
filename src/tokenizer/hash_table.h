// Small open-addressing hash tables for the encoder's two lookups (token
// bytes -> id, id pair -> merge). They are built once and then only read, by
// many threads; std::unordered_map's node-per-entry layout costs a cache miss
// per probe, these cost about one.
#pragma once
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace shog::detail {

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ull;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ull;
  x ^= x >> 32;
  return x;
}

inline uint64_t hash_bytes(const char* p, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * 0x94d049bb133111ebull;
  }
  return mix64(h);
}

inline size_t table_capacity(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap <<= 1;  // load factor <= 1/2 keeps probes short
  return cap;
}

// string_view -> int32_t. Keys point into storage the owner keeps alive.
class BytesTable {
 public:
  void build(const std::vector<std::pair<std::string_view, int32_t>>& entries) {
    slots_.assign(table_capacity(entries.size()), Slot{});
    mask_ = slots_.size() - 1;
    for (auto& [k, v] : entries) {
      uint64_t h = hash_bytes(k.data(), k.size());
      size_t i = h & mask_;
      while (slots_[i].value >= 0) {
        if (slots_[i].hash == h && slots_[i].key == k) break;  // first entry wins
        i = (i + 1) & mask_;
      }
      if (slots_[i].value < 0) slots_[i] = Slot{h, k, v};
    }
  }
  int32_t find(std::string_view k) const {
    if (slots_.empty()) return -1;
    uint64_t h = hash_bytes(k.data(), k.size());
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value < 0) return -1;
      if (s.hash == h && s.key.size() == k.size() && std::memcmp(s.key.data(), k.data(), k.size()) == 0)
        return s.value;
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    std::string_view key;
    int32_t value = -1;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// (left id, right id) -> what merging them gives and how early it applies.
struct MergeRule {
  int32_t priority;  // lower merges first
  int32_t result;    // id of the merged token
};

class PairTable {
 public:
  static uint64_t key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
  void reserve(size_t n) {
    slots_.assign(table_capacity(n), Slot{});
    mask_ = slots_.size() - 1;
  }
  // Keeps the first rule for a pair (a merge list's earlier entry wins).
  void insert(int32_t a, int32_t b, MergeRule r) {
    uint64_t k = key(a, b);
    for (size_t i = mix64(k) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == kEmpty) {
        slots_[i] = Slot{k, r};
        ++size_;
        return;
      }
      if (slots_[i].key == k) return;
    }
  }
  const MergeRule* find(int32_t a, int32_t b) const {
    uint64_t k = key(a, b);
    for (size_t i = mix64(k) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == k) return &slots_[i].rule;
      if (slots_[i].key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  struct Slot {
    uint64_t key = kEmpty;
    MergeRule rule{};
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0, size_ = 0;
};

}  // namespace shog::detail
