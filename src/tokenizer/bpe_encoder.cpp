#include "tokenizer/bpe_encoder.h"

#include <algorithm>
#include <climits>
#include <queue>

#include "core/error.h"

namespace shog {

BpeModel::BpeModel(std::vector<std::string> tokens, std::vector<bool> is_present, MergeOrder order,
                   std::vector<std::pair<int32_t, int32_t>> merges, bool whole_piece_shortcut,
                   const std::string& where)
    : tokens_(std::move(tokens)), present_(std::move(is_present)), order_(order), merges_(std::move(merges)),
      shortcut_(whole_piece_shortcut) {
  SHOG_ASSERT(tokens_.size() == present_.size());
  std::vector<std::pair<std::string_view, int32_t>> entries;
  entries.reserve(tokens_.size());
  for (size_t id = 0; id < tokens_.size(); ++id) {
    if (!present_[id]) continue;
    SHOG_CHECK(!tokens_[id].empty(), ErrorKind::bad_input, where, "token {} has no bytes", id);
    entries.emplace_back(tokens_[id], int32_t(id));
  }
  lookup_.build(entries);
  for (int b = 0; b < 256; ++b) {
    char c = char(b);
    byte_id_[b] = lookup_.find(std::string_view(&c, 1));
    SHOG_CHECK(byte_id_[b] >= 0, ErrorKind::bad_input, where,
               "byte 0x{:02x} has no token; a byte-level vocabulary needs all 256 bytes", b);
  }

  if (order_ == MergeOrder::ranks) {
    // Every split of a token into two tokens is a pair that merges into it.
    size_t n_pairs = 0;
    for (auto& [t, id] : entries) n_pairs += t.size() - 1;
    pairs_.reserve(n_pairs);
    for (auto& [t, id] : entries) {
      for (size_t k = 1; k < t.size(); ++k) {
        int32_t a = lookup_.find(t.substr(0, k)), b = lookup_.find(t.substr(k));
        if (a >= 0 && b >= 0) pairs_.insert(a, b, {id, id});
      }
    }
  } else {
    pairs_.reserve(merges_.size());
    std::string cat;
    for (size_t i = 0; i < merges_.size(); ++i) {
      auto [a, b] = merges_[i];
      SHOG_CHECK(present(a) && present(b), ErrorKind::bad_input, where,
                 "merge {} refers to a token id that does not exist ({} {})", i, a, b);
      cat = tokens_[a];
      cat += tokens_[b];
      int32_t r = lookup_.find(cat);
      SHOG_CHECK(r >= 0, ErrorKind::bad_input, where, "merge {} ({} {}) gives bytes that are not a token", i, a, b);
      pairs_.insert(a, b, {int32_t(i), r});
    }
  }
}

void BpeModel::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
  auto p = reinterpret_cast<const uint8_t*>(piece.data());
  size_t n = piece.size();
  if (n == 0) return;
  if (n == 1) {
    out.push_back(byte_id_[p[0]]);
    return;
  }
  if (shortcut_) {
    int32_t id = lookup_.find(piece);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  // Most pre-tokens are a few bytes; a rescan of a short array beats heap
  // bookkeeping there. Long ones (a run of 10k digits or spaces) would make
  // the rescan quadratic, so they take the heap path.
  if (n <= 48) encode_small(p, n, out);
  else encode_large(p, n, out);
}

void BpeModel::encode_small(const uint8_t* p, size_t n, std::vector<int32_t>& out) const {
  int32_t id[48];
  detail::MergeRule rule[48];  // rule[i]: merging part i with part i+1
  constexpr detail::MergeRule kNone{INT_MAX, -1};
  size_t m = n;
  for (size_t i = 0; i < n; ++i) id[i] = byte_id_[p[i]];
  auto rule_at = [&](size_t i) {
    const detail::MergeRule* r = pairs_.find(id[i], id[i + 1]);
    return r ? *r : kNone;
  };
  for (size_t i = 0; i + 1 < m; ++i) rule[i] = rule_at(i);
  while (m > 1) {
    size_t best = 0;
    int32_t best_pri = INT_MAX;
    for (size_t i = 0; i + 1 < m; ++i) {
      if (rule[i].priority < best_pri) {  // strict: the leftmost wins a tie
        best_pri = rule[i].priority;
        best = i;
      }
    }
    if (best_pri == INT_MAX) break;
    id[best] = rule[best].result;
    for (size_t j = best + 1; j + 1 < m; ++j) {
      id[j] = id[j + 1];
      rule[j] = rule[j + 1];
    }
    --m;
    if (best + 1 < m) rule[best] = rule_at(best);
    if (best > 0) rule[best - 1] = rule_at(best - 1);
  }
  out.insert(out.end(), id, id + m);
}

void BpeModel::encode_large(const uint8_t* p, size_t n, std::vector<int32_t>& out) const {
  // Parts as a doubly linked list over byte positions; candidate merges in a
  // min-heap keyed by (priority, position). An entry is stale once either
  // part has changed; since a part only ever grows by absorbing its right
  // neighbour, "both ids unchanged" means the pair is still exactly there.
  struct Cand {
    int32_t priority;
    uint32_t pos;
    int32_t left, right;
    bool operator>(const Cand& o) const { return priority != o.priority ? priority > o.priority : pos > o.pos; }
  };
  std::vector<int32_t> id(n);
  std::vector<uint32_t> next(n), prev(n);
  for (size_t i = 0; i < n; ++i) {
    id[i] = byte_id_[p[i]];
    next[i] = uint32_t(i + 1);
    prev[i] = uint32_t(i - 1);  // wraps for i == 0; never read there
  }
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto push = [&](uint32_t i) {
    if (next[i] >= n) return;
    if (auto* r = pairs_.find(id[i], id[next[i]])) heap.push({r->priority, i, id[i], id[next[i]]});
  };
  for (uint32_t i = 0; i + 1 < n; ++i) push(i);
  constexpr int32_t kGone = -1;
  while (!heap.empty()) {
    Cand c = heap.top();
    heap.pop();
    uint32_t i = c.pos;
    if (id[i] != c.left || next[i] >= n || id[next[i]] != c.right) continue;
    uint32_t j = next[i];
    id[i] = pairs_.find(c.left, c.right)->result;
    id[j] = kGone;
    next[i] = next[j];
    if (next[i] < n) prev[next[i]] = i;
    push(i);
    if (i > 0) push(prev[i]);
  }
  for (uint32_t i = 0; i < n; i = next[i]) out.push_back(id[i]);
}

}  // namespace shog
