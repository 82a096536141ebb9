#include "tokenizer/bpe_trainer.h"

#include <algorithm>
#include <cstring>
#include <atomic>
#include <memory>
#include <queue>
#include <thread>
#include <unordered_map>

#include "core/error.h"
#include "core/file_io.h"
#include "core/progress.h"
#include "tokenizer/hash_table.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/utf8.h"

namespace shog {

const std::vector<std::string>& default_special_tokens() {
  static const std::vector<std::string> s = {"<|bos|>",  "<|eos|>",       "<|pad|>", "<|system|>",
                                             "<|user|>", "<|assistant|>", "<|end|>"};
  return s;
}

namespace {

// Pre-token -> count, open addressing with the hash kept beside each key so
// a probe only touches the (mapped) text on a real match. The map is hit once
// per pre-token of the corpus, tens of millions of times; a node-based
// std::unordered_map was the trainer's bottleneck.
class PieceCounts {
 public:
  PieceCounts() { slots_.resize(1 << 16); }
  void add(std::string_view k, uint64_t n) {
    uint64_t h = detail::hash_bytes(k.data(), k.size());
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.count == 0) {
        s = Slot{h, k.data(), uint32_t(k.size()), n};
        if (++size_ * 2 > slots_.size()) grow();
        return;
      }
      if (s.hash == h && s.len == k.size() && std::memcmp(s.data, k.data(), k.size()) == 0) {
        s.count += n;
        return;
      }
    }
  }
  template <class F>
  void for_each(F&& f) const {
    for (auto& s : slots_)
      if (s.count) f(std::string_view(s.data, s.len), s.count);
  }
  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    const char* data = nullptr;
    uint32_t len = 0;
    uint64_t count = 0;
  };
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_t mask = slots_.size() - 1;
    for (auto& s : old) {
      if (!s.count) continue;
      size_t i = s.hash & mask;
      while (slots_[i].count) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

struct Chunk {
  std::string_view text;
};

// Cuts after a newline near every `target` bytes, so a chunk boundary rarely
// splits what the regex would have kept together.
std::vector<Chunk> make_chunks(std::string_view text, size_t target) {
  std::vector<Chunk> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = std::min(text.size(), pos + target);
    if (end < text.size()) {
      size_t nl = text.find('\n', end);
      end = nl == std::string_view::npos ? text.size() : nl + 1;
    }
    out.push_back({text.substr(pos, end - pos)});
    pos = end;
  }
  return out;
}

PieceCounts count_pieces(const std::vector<std::string_view>& texts, const Pretokenizer& pre, int threads,
                         bool progress) {
  std::vector<Chunk> chunks;
  uint64_t total = 0;
  for (auto t : texts) {
    auto c = make_chunks(t, 1 << 20);
    chunks.insert(chunks.end(), c.begin(), c.end());
    total += t.size();
  }
  ProgressBar bar("counting pre-tokens", total, "MB", 1e6, false);
  if (!progress) bar.finish();  // finished bars never draw
  int n = std::max(1, std::min<int>(threads, int(chunks.size())));
  std::vector<PieceCounts> local(n);
  std::atomic<size_t> next{0};
  auto work = [&](int t) {
    PieceCounts& m = local[t];
    for (size_t i; (i = next.fetch_add(1)) < chunks.size();) {
      pre.split(chunks[i].text, [&](std::string_view p) { m.add(p, 1); });
      if (progress) bar.add(chunks[i].text.size());
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < n; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  bar.finish();
  for (int t = 1; t < n; ++t) {
    local[t].for_each([&](std::string_view k, uint64_t v) { local[0].add(k, v); });
    local[t] = PieceCounts();
  }
  return std::move(local[0]);
}

struct Word {
  std::vector<int32_t> sym;
  uint64_t count;
};

struct PairStat {
  int64_t count = 0;
  std::vector<uint32_t> words;  // may hold stale or repeated entries; filtered on use
};

struct HeapEntry {
  int64_t count;
  uint64_t key;
  // Max-heap on count; on a tie the smaller pair key is "greater" so it pops first.
  bool operator<(const HeapEntry& o) const { return count != o.count ? count < o.count : key > o.key; }
};

}  // namespace

Tokenizer train_bpe_on_texts(const std::vector<std::string_view>& texts, const std::vector<std::string>& names,
                             const BpeTrainOptions& opts) {
  const int32_t n_special = int32_t(opts.special_tokens.size());
  SHOG_CHECK(opts.vocab_size >= 256 + n_special, ErrorKind::invalid_argument, "--vocab-size",
             "{} is smaller than the 256 byte tokens plus {} special tokens", opts.vocab_size, n_special);
  const int32_t n_merges = opts.vocab_size - 256 - n_special;

  // Reject non-UTF-8 input up front: a byte-level BPE could train on it, but
  // it almost always means a wrong file (binary, Latin-1), and the split
  // regex only has meaning on text.
  uint64_t total = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto p = reinterpret_cast<const uint8_t*>(texts[i].data());
    size_t ok = utf8::valid_prefix(p, texts[i].size());
    SHOG_CHECK(ok == texts[i].size(), ErrorKind::bad_input, names[i], "byte offset {}: not valid UTF-8 (byte 0x{:02x})",
               ok, p[ok]);
    total += texts[i].size();
  }
  if (total == 0) {
    std::string all;
    for (auto& n : names) all += (all.empty() ? "" : ", ") + n;
    throw Error(ErrorKind::bad_input, all.empty() ? "corpus" : all, "empty corpus: no text to train on");
  }

  std::string pattern = named_split_pattern(opts.pattern).value_or(opts.pattern);
  Pretokenizer pre(pattern);
  int threads = opts.threads > 0 ? opts.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  PieceCounts counts = count_pieces(texts, pre, threads, opts.progress);

  // Words in byte order, so ids of words (and thus everything after) do not
  // depend on hash-map iteration order.
  std::vector<std::pair<std::string_view, uint64_t>> pieces;
  pieces.reserve(counts.size());
  counts.for_each([&](std::string_view k, uint64_t v) { pieces.emplace_back(k, v); });
  counts = PieceCounts();
  std::sort(pieces.begin(), pieces.end());
  std::vector<Word> words;
  words.reserve(pieces.size());
  for (auto& [p, c] : pieces) {
    if (p.size() < 2) continue;  // a single byte never takes part in a merge
    Word w{{}, c};
    w.sym.reserve(p.size());
    for (unsigned char ch : p) w.sym.push_back(ch);
    words.push_back(std::move(w));
  }
  pieces.clear();
  pieces.shrink_to_fit();

  std::unordered_map<uint64_t, PairStat> pairs;
  for (uint32_t wi = 0; wi < words.size(); ++wi) {
    auto& s = words[wi].sym;
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      PairStat& ps = pairs[detail::PairTable::key(s[i], s[i + 1])];
      ps.count += int64_t(words[wi].count);
      if (ps.words.empty() || ps.words.back() != wi) ps.words.push_back(wi);
    }
  }
  std::priority_queue<HeapEntry> heap;
  for (auto& [k, ps] : pairs) heap.push({ps.count, k});

  std::vector<std::string> tokens(256);
  for (int b = 0; b < 256; ++b) tokens[b] = std::string(1, char(b));
  std::vector<std::pair<int32_t, int32_t>> merges;
  merges.reserve(n_merges);
  std::vector<int32_t> stamp(words.size(), -1);
  std::vector<uint64_t> touched;
  std::vector<int32_t> merged;

  ProgressBar bar("merging", uint64_t(n_merges), "merges", 1.0, false);
  if (!opts.progress) bar.finish();
  while (int32_t(merges.size()) < n_merges) {
    SHOG_CHECK(!heap.empty(), ErrorKind::invalid_argument, "--vocab-size",
               "the corpus only supports {} merges (vocabulary of {}); asked for {}", merges.size(),
               256 + merges.size() + n_special, opts.vocab_size);
    HeapEntry top = heap.top();
    heap.pop();
    auto it = pairs.find(top.key);
    int64_t cur = it == pairs.end() ? 0 : it->second.count;
    if (cur != top.count) {
      if (cur > 0) heap.push({cur, top.key});
      continue;
    }
    if (cur <= 0) continue;
    const int32_t a = int32_t(top.key >> 32), b = int32_t(top.key & 0xffffffffu);
    const int32_t z = int32_t(tokens.size());
    tokens.push_back(tokens[a] + tokens[b]);
    merges.emplace_back(a, b);
    const int32_t step = int32_t(merges.size());

    // Take the occurrence list: after this merge the pair exists nowhere.
    std::vector<uint32_t> occ = std::move(it->second.words);
    it->second.words.clear();
    touched.clear();
    for (uint32_t wi : occ) {
      if (stamp[wi] == step) continue;
      stamp[wi] = step;
      Word& w = words[wi];
      auto& s = w.sym;
      bool found = false;
      for (size_t i = 0; i + 1 < s.size(); ++i)
        if (s[i] == a && s[i + 1] == b) {
          found = true;
          break;
        }
      if (!found) continue;  // stale entry: an earlier merge consumed it
      const int64_t c = int64_t(w.count);
      // Replace the word's pairs wholesale (old out, new in): simplest way to
      // get overlapping runs like "a a a" right, and words are short.
      for (size_t i = 0; i + 1 < s.size(); ++i) pairs[detail::PairTable::key(s[i], s[i + 1])].count -= c;
      merged.clear();
      for (size_t i = 0; i < s.size();) {
        if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
          merged.push_back(z);
          i += 2;
        } else {
          merged.push_back(s[i++]);
        }
      }
      s.assign(merged.begin(), merged.end());
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        uint64_t k = detail::PairTable::key(s[i], s[i + 1]);
        PairStat& ps = pairs[k];
        ps.count += c;
        if (s[i] == z || s[i + 1] == z) {
          if (ps.words.empty() || ps.words.back() != wi) ps.words.push_back(wi);
          touched.push_back(k);
        }
      }
    }
    pairs.erase(top.key);
    // Only pairs with the new token gained counts; the rest only lost, and
    // their stale heap entries are corrected when popped.
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (uint64_t k : touched) heap.push({pairs[k].count, k});
    if (opts.progress) bar.update(merges.size());
  }
  bar.finish();

  TokenizerSpec spec;
  spec.present.assign(tokens.size(), true);
  spec.tokens = std::move(tokens);
  spec.order = MergeOrder::merges;
  spec.merges = std::move(merges);
  spec.pattern = pattern;
  for (int32_t i = 0; i < n_special; ++i)
    spec.added.push_back({opts.special_tokens[i], int32_t(spec.tokens.size()) + i, true});
  return Tokenizer::from_spec(std::move(spec), "trained tokenizer");
}

Tokenizer train_bpe(const std::vector<std::string>& files, const BpeTrainOptions& opts) {
  SHOG_CHECK(!files.empty(), ErrorKind::invalid_argument, "--input", "no input files");
  std::vector<std::unique_ptr<MappedFile>> maps;
  std::vector<std::string_view> texts;
  for (auto& f : files) {
    maps.push_back(std::make_unique<MappedFile>(f));
    texts.emplace_back(reinterpret_cast<const char*>(maps.back()->data()), maps.back()->size());
  }
  return train_bpe_on_texts(texts, files, opts);
}

}  // namespace shog
