// Per-sequence sampling; the semantics are in sampler.h and docs/sampling.md.
// The code runs in the order of the steps there.
#include "infer/sampler.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "core/error.h"
#include "core/vec_math.h"

namespace shog {

// ---------------------------------------------------------------- parameters

void SamplingParams::validate() const { validate(""); }

void SamplingParams::validate(const std::string& where) const {
  auto fail = [&](std::string what) { throw Error(ErrorKind::invalid_argument, where, std::move(what)); };
  // Written as !(in range) so that NaN fails every check.
  if (!(std::isfinite(temperature) && temperature >= 0.0f))
    fail(fmt::format("temperature must be a finite number >= 0 (0 means greedy), got {}", temperature));
  if (top_k < 0) fail(fmt::format("top_k must be >= 0 (0 means off), got {}", top_k));
  if (!(top_p > 0.0f && top_p <= 1.0f)) fail(fmt::format("top_p must be in (0, 1], got {}", top_p));
  if (!(min_p >= 0.0f && min_p <= 1.0f)) fail(fmt::format("min_p must be in [0, 1], got {}", min_p));
  if (!(std::isfinite(repetition_penalty) && repetition_penalty > 0.0f))
    fail(fmt::format("repetition_penalty must be a finite number > 0 (1 means off), got {}", repetition_penalty));
  if (!(frequency_penalty >= -2.0f && frequency_penalty <= 2.0f))
    fail(fmt::format("frequency_penalty must be in [-2, 2], got {}", frequency_penalty));
  if (!(presence_penalty >= -2.0f && presence_penalty <= 2.0f))
    fail(fmt::format("presence_penalty must be in [-2, 2], got {}", presence_penalty));
  if (max_new_tokens < 0) fail(fmt::format("max_new_tokens must be >= 0, got {}", max_new_tokens));
  if (top_logprobs < 0 || top_logprobs > kMaxTopLogprobs)
    fail(fmt::format("top_logprobs must be in [0, {}], got {}", kMaxTopLogprobs, top_logprobs));
  for (int32_t t : stop_tokens)
    if (t < 0) fail(fmt::format("stop_tokens must be token ids >= 0, got {}", t));
  for (const auto& s : stop_strings)
    if (s.empty()) fail("stop_strings must not contain an empty string (it would match before any text)");
}

bool SamplingParams::is_stop_token(int32_t t) const {
  return std::find(stop_tokens.begin(), stop_tokens.end(), t) != stop_tokens.end();
}

// ------------------------------------------------------------------- sampler

namespace {
// Tokens per block of exp_sum's partial sums (and of the untruncated draw's search).
constexpr int64_t kExpBlock = 256;
// 16 floats as one value (GCC's vector extension): element-wise +, > and ?:,
// kept in a register where a float[16] was not.
using Lanes16 = float __attribute__((vector_size(64)));
}  // namespace

Sampler::Sampler(const SamplingParams& p) : params_(p), rng_(p.seed) {}

void Sampler::reserve(int64_t vocab) {
  const size_t v = size_t(vocab);
  // Grow only: a sampler serves one model, so this allocates on the first call.
  if (logits_.size() < v) logits_.resize(v);
  if (weights_.size() < v) weights_.resize(v);
  if (counts_.size() < v) counts_.resize(v, 0);
  if (kept_ids_.size() < v) kept_ids_.resize(v);
  if (kept_probs_.size() < v) kept_probs_.resize(v);
  if (scratch_.size() < v) scratch_.resize(v);
  if (bins_.size() < v) bins_.resize(v);
  const size_t nb = (v + size_t(kExpBlock) - 1) / size_t(kExpBlock);
  if (block_mass_.size() < nb) block_mass_.resize(nb);
}

void Sampler::materialize_full_distribution() const {
  if (full_z_ <= 0.0) return;
  const float inv_z = float(1.0 / full_z_);
  for (size_t i = 0; i < kept_n_; i++) kept_probs_[i] *= inv_z;
  std::iota(kept_ids_.begin(), kept_ids_.begin() + int64_t(kept_n_), 0);
  full_z_ = 0.0;
}

void Sampler::apply_penalties(std::span<float> logits, std::span<const int32_t> context) {
  const int64_t vocab = int64_t(logits.size());
  // Checked before counting so that a bad id cannot leave counts_ dirty.
  for (int32_t t : context)
    SHOG_CHECK(t >= 0 && t < vocab, ErrorKind::invalid_argument, "sampler context",
               "token id {} is outside the vocabulary [0, {})", t, vocab);
  const float rep = params_.repetition_penalty, freq = params_.frequency_penalty, pres = params_.presence_penalty;
  if (rep == 1.0f && freq == 0.0f && pres == 0.0f) return;
  if (counts_.size() < logits.size()) counts_.resize(logits.size(), 0);
  // Count, then penalise each distinct token once while zeroing its count:
  // O(context) per call instead of clearing a vocab-sized table.
  for (int32_t t : context) counts_[t]++;
  for (int32_t t : context) {
    const int32_t c = counts_[t];
    if (c == 0) continue;  // already penalised
    counts_[t] = 0;
    float& x = logits[t];
    // CTRL: dividing a negative logit would raise its probability, so it is multiplied.
    if (rep != 1.0f) x = x > 0.0f ? x / rep : x * rep;
    x -= freq * float(c) + pres;
  }
}

namespace {

// The canonical order of candidates: higher logit first, then lower id. A
// strict total order, so top-k's set, top-p's cut and every tie are determined
// whatever algorithm (or std library) selects them.
struct ByLogitDesc {
  const float* l;
  bool operator()(int32_t a, int32_t b) const { return l[a] > l[b] || (l[a] == l[b] && a < b); }
};


// Sum of exp((l[i] - lmax) * s) over i < n, also written to w when kStore. In
// blocks of kExpBlock tokens, each summed in 16 float lanes (vectorised), added
// into a double, so the sum is accurate to ~1e-7 relative at any vocab. With
// `blocks`, each block's sum goes there too (the last block may be short). A
// NaN logit makes the sum NaN.
template <bool kStore>
double exp_sum(const float* l, int64_t n, float lmax, float s, float* w, double* blocks) {
  double total = 0.0;
  int64_t i = 0;
  for (; i + kExpBlock <= n; i += kExpBlock) {
    // A vector-typed accumulator: as a float[16], GCC kept it on the stack
    // and the loop waited on a store and a reload every 16 tokens.
    Lanes16 acc = {};
    for (int b = 0; b < kExpBlock; b += 16) {
      float e[16];
      for (int j = 0; j < 16; j++) e[j] = exp_nonpositive((l[i + b + j] - lmax) * s);
      if constexpr (kStore) std::memcpy(w + i + b, e, sizeof e);
      Lanes16 v;
      std::memcpy(&v, e, sizeof e);
      acc += v;
    }
    double block = 0.0;
    for (int j = 0; j < 16; j++) block += acc[j];
    if (blocks) *blocks++ = block;
    total += block;
  }
  double tail = 0.0;
  for (; i < n; i++) {
    const float e = exp_nonpositive((l[i] - lmax) * s);
    if constexpr (kStore) w[i] = e;
    tail += e;
  }
  if (blocks && n % kExpBlock) *blocks = tail;
  return total + tail;
}

// The largest logit (NaN skipped), in 16 vector lanes: l > m ? l : m is
// maxps's definition, but GCC left the loop scalar when written on a float[16].
float max_logit(const float* l, int64_t n) {
  const float lowest = -std::numeric_limits<float>::infinity();
  Lanes16 m = lowest - Lanes16{};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    Lanes16 v;
    std::memcpy(&v, l + i, sizeof v);
    m = v > m ? v : m;
  }
  float best = lowest;
  for (; i < n; i++) best = l[i] > best ? l[i] : best;
  for (int j = 0; j < 16; j++) best = m[j] > best ? m[j] : best;
  return best;
}

// Compactions over the vocab, in id order: 16 lanes at a time where AVX-512
// is built in (a compress in a register, then a full store: the stores never
// pass the lanes being read, and on Zen 4 a compress straight to memory is
// slow), one at a time otherwise. Branch-free either way: whether a token
// stays is a coin flip to a branch predictor.

#if defined(__AVX512F__)
// Sixteen top-p buckets (uint16) widened to 32-bit lanes.
inline __m512i load_bins16(const uint16_t* bin) {
  return _mm512_maskz_cvtepu16_epi32(0xFFFF, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bin)));
}
#endif

// ids[0..] = the i < n with w[i] >= w_min; returns how many.
size_t ids_with_weight_at_least(const float* w, int64_t n, float w_min, int32_t* ids) {
  size_t m = 0;
  int64_t i = 0;
#if defined(__AVX512F__)
  const __m512 wm = _mm512_set1_ps(w_min);
  __m512i idx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i sixteen = _mm512_set1_epi32(16);
  for (; i + 16 <= n; i += 16, idx = _mm512_add_epi32(idx, sixteen)) {
    const __mmask16 keep = _mm512_cmp_ps_mask(_mm512_loadu_ps(w + i), wm, _CMP_GE_OQ);
    _mm512_storeu_si512(ids + m, _mm512_maskz_compress_epi32(keep, idx));
    m += size_t(std::popcount(unsigned(keep)));
  }
#endif
  for (; i < n; i++) {
    ids[m] = int32_t(i);
    m += w[i] >= w_min;
  }
  return m;
}

// out[0..] = the ids[j] (j < m) whose bin[j] is `b`; returns how many. `out`
// may not be `ids`.
size_t ids_in_bin(const int32_t* ids, const uint16_t* bin, size_t m, int b, int32_t* out) {
  size_t n = 0, j = 0;
#if defined(__AVX512F__)
  const __m512i vb = _mm512_set1_epi32(b);
  for (; j + 16 <= m; j += 16) {
    const __m512i bj = load_bins16(bin + j);
    const __mmask16 in = _mm512_cmpeq_epi32_mask(bj, vb);
    _mm512_storeu_si512(out + n, _mm512_maskz_compress_epi32(in, _mm512_loadu_si512(ids + j)));
    n += size_t(std::popcount(unsigned(in)));
  }
#endif
  for (; j < m; j++) {
    out[n] = ids[j];
    n += bin[j] == b;
  }
  return n;
}

// In place: keeps the ids[j] (j < m) in a bin before `cut_bin`, or in it and
// not after `p_cut` in the canonical order; returns how many.
size_t keep_through_cut(int32_t* ids, const uint16_t* bin, size_t m, int cut_bin, const float* l, int32_t p_cut) {
  const ByLogitDesc order{l};
  size_t kept = 0, j = 0;
#if defined(__AVX512F__)
  const __m512i vb = _mm512_set1_epi32(cut_bin);
  for (; j + 16 <= m; j += 16) {
    const __m512i bj = load_bins16(bin + j);
    const __m512i v = _mm512_loadu_si512(ids + j);
    unsigned keep = _mm512_cmplt_epi32_mask(bj, vb);
    for (unsigned at = _mm512_cmpeq_epi32_mask(bj, vb); at; at &= at - 1) {  // the cut bin's few
      const int lane = std::countr_zero(at);
      if (!order(p_cut, ids[j + size_t(lane)])) keep |= 1u << lane;
    }
    _mm512_storeu_si512(ids + kept, _mm512_maskz_compress_epi32(__mmask16(keep), v));
    kept += size_t(std::popcount(keep));
  }
#endif
  for (; j < m; j++) {
    const int32_t i = ids[j];
    ids[kept] = i;
    kept += bin[j] < cut_bin || (bin[j] == cut_bin && !order(p_cut, i));
  }
  return kept;
}

// f(i) for every i in [from, n) with l[i] >= cut, in increasing order; `cut`
// is re-read every 16 tokens, so f may raise it (top-k's heap does), and f
// must re-check it. Most of a 50k vocab is below the cut: 16 of them fall to
// one vector compare where a scalar loop branched on each.
template <class F>
void for_each_at_least(const float* l, int64_t from, int64_t n, const float& cut, F&& f) {
  int64_t i = from;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16)
    for (unsigned at = _mm512_cmp_ps_mask(_mm512_loadu_ps(l + i), _mm512_set1_ps(cut), _CMP_GE_OQ); at;
         at &= at - 1)
      f(i + std::countr_zero(at));
#endif
  for (; i < n; i++)
    if (l[i] >= cut) f(i);
}

// Top-p over more candidates than this buckets them first (see truncate()).
constexpr size_t kSortDirectly = 2048;
// Buckets of -log(weight) for top-p: 0.0117 nats wide, the last one holding
// everything below e^-24 relative to the max (at most vocab * 4e-11 of the mass).
constexpr int kBins = 2048;
constexpr float kBinRange = 24.0f;

}  // namespace

void Sampler::fill_top_logprobs(int64_t vocab, float lmax, double log_z, int n, std::vector<TokenLogprob>& out) {
  // One pass keeping the n best in a sorted array: n is small, so insertion
  // beats selecting over a vocab-sized index array. Ids are visited in
  // increasing order and only a strictly larger logit displaces, so ties go
  // to the lower id.
  const float* l = logits_.data();
  out.clear();
  out.reserve(size_t(n));
  int32_t* best = scratch_.data();
  int m = 0;
  float cut = -std::numeric_limits<float>::infinity();  // the n-th best's logit, once there are n
  for_each_at_least(l, 0, vocab, cut, [&](int64_t i) {
    const float x = l[i];
    if (m == n && !(x > l[best[m - 1]])) return;
    int j = m < n ? m++ : n - 1;
    while (j > 0 && x > l[best[j - 1]]) {
      best[j] = best[j - 1];
      j--;
    }
    best[j] = int32_t(i);
    if (m == n) cut = l[best[n - 1]];
  });
  for (int j = 0; j < m; j++) out.push_back({best[j], float(double(l[best[j]]) - lmax - log_z)});
}

size_t Sampler::truncate(int64_t vocab, float lmax, float inv_t, double z_t) {
  // Each step finds a cut in the canonical order, then the kept tokens are
  // collected by a scan in id order: no vocab-sized sort, and the draw's order
  // is the ids', which no selection algorithm can perturb.
  const float* l = logits_.data();
  const float* w = weights_.data();
  int32_t* ids = kept_ids_.data();
  const ByLogitDesc order{l};

  // 5. top-k: a heap of the k best, whose top is the worst of them (the cut).
  // Most tokens lose to the cut's logit outright, so that is tested first.
  const bool top_k = params_.top_k > 0 && params_.top_k < vocab;
  int32_t k_cut = 0;
  if (top_k) {
    const size_t k = size_t(params_.top_k);
    int32_t* heap = scratch_.data();
    for (size_t i = 0; i < k; i++) heap[i] = int32_t(i);
    std::make_heap(heap, heap + k, order);
    float cut_l = l[heap[0]];
    for_each_at_least(l, int64_t(k), vocab, cut_l, [&](int64_t i) {
      if (l[i] < cut_l || !order(int32_t(i), heap[0])) return;
      std::pop_heap(heap, heap + k, order);
      heap[k - 1] = int32_t(i);
      std::push_heap(heap, heap + k, order);
      cut_l = l[heap[0]];
    });
    k_cut = heap[0];
  }

  // Collect top-k's set, and at once apply
  // 7. min-p, early: it keeps a prefix of the canonical order (w >= min_p, the
  // max having w = 1) and is a ratio, so top-p's renormalisation in between
  // does not change it. Top-p still normalises over z_seen, the mass before
  // min-p. Zero weights (logits of -inf, or underflow) can never be drawn.
  const float w_min = std::max(params_.min_p, std::numeric_limits<float>::denorm_min());
  double z_seen = z_t;
  size_t m = 0;
  if (top_k) {
    z_seen = 0.0;
    const float k_l = l[k_cut];
    for_each_at_least(l, 0, vocab, k_l, [&](int64_t i) {
      if (order(k_cut, int32_t(i))) return;
      z_seen += w[i];
      if (w[i] >= w_min) ids[m++] = int32_t(i);
    });
  } else {
    m = ids_with_weight_at_least(w, vocab, w_min, ids);
  }

  // 6. top-p: find the cut among the candidates, sorting as few as possible.
  if (params_.top_p >= 1.0f || m <= 1) return m;
  const double target = double(params_.top_p) * z_seen;
  int32_t* sorted = scratch_.data();
  if (m <= kSortDirectly) {
    std::copy(ids, ids + m, sorted);
    std::sort(sorted, sorted + m, order);
    double cum = 0.0;
    size_t n = m;  // if rounding keeps the target out of reach: keep all
    for (size_t j = 0; j < m && n == m; j++)
      if ((cum += w[sorted[j]]) >= target) n = j + 1;
    // Back to id order for the draw.
    std::copy(sorted, sorted + n, ids);
    std::sort(ids, ids + n);
    return n;
  }
  // Many candidates: bucket them by -log(weight), which is monotone in the
  // canonical order; find the bucket where the cumulative mass crosses the
  // target, and sort only that bucket.
  const float to_bin = inv_t * (float(kBins) / kBinRange);
  uint16_t* bin = bins_.data();
  for (size_t j = 0; j < m; j++) {
    const float b = (lmax - l[ids[j]]) * to_bin;
    bin[j] = uint16_t(b < float(kBins - 1) ? int(b) : kBins - 1);
  }
  bin_mass_.assign(kBins, 0.0);
  for (size_t j = 0; j < m; j++) bin_mass_[bin[j]] += w[ids[j]];
  double cum = 0.0;  // mass of the buckets before the crossing one
  int cut_bin = 0;
  while (cut_bin < kBins - 1 && cum + bin_mass_[cut_bin] < target) cum += bin_mass_[cut_bin++];
  const size_t n_sort = ids_in_bin(ids, bin, m, cut_bin, sorted);
  std::sort(sorted, sorted + n_sort, order);
  int32_t p_cut = sorted[n_sort - 1];  // if rounding keeps the target out of reach: keep the bucket
  for (size_t j = 0; j < n_sort; j++)
    if ((cum += w[sorted[j]]) >= target) {
      p_cut = sorted[j];
      break;
    }
  return keep_through_cut(ids, bin, m, cut_bin, l, p_cut);
}

SampledToken Sampler::sample(const float* logits, int64_t vocab, std::span<const int32_t> context) {
  SHOG_CHECK(vocab > 0, ErrorKind::invalid_argument, "sampler", "vocab must be > 0, got {}", vocab);
  reserve(vocab);
  // Exactly one draw per call, greedy or not: the n-th token of a sequence then
  // depends on (seed, n, logits) only.
  const double u = rng_.uniform();

  // 1. penalties, on a copy
  float* l = logits_.data();
  std::copy(logits, logits + vocab, l);
  apply_penalties({l, size_t(vocab)}, context);

  // 2. the log-partition of the penalised logits, for the log-probs.
  const float lmax = max_logit(l, vocab);
  SHOG_CHECK(std::isfinite(lmax), ErrorKind::numeric, "sampler",
             "logits are all -inf or NaN, or hold +inf (max {})", lmax);
  const bool greedy = params_.greedy();
  const float inv_t = greedy ? 1.0f : 1.0f / params_.temperature;
  const bool truncating =
      !greedy && ((params_.top_k > 0 && params_.top_k < vocab) || params_.top_p < 1.0f || params_.min_p > 0.0f);
  // Weights exp((l - lmax) / T) go where the draw reads them: kept_probs_ in id
  // order when not truncating, weights_ (indexed by id) when truncating.
  float* w = truncating ? weights_.data() : kept_probs_.data();
  full_z_ = 0.0;
  const double z_t = greedy ? 0.0 : exp_sum<true>(l, vocab, lmax, inv_t, w, truncating ? nullptr : block_mass_.data());
  const double z_1 = greedy || inv_t != 1.0f ? exp_sum<false>(l, vocab, lmax, 1.0f, nullptr, nullptr) : z_t;
  SHOG_CHECK(std::isfinite(z_1) && std::isfinite(z_t), ErrorKind::numeric, "sampler", "logits hold a NaN");
  const double log_z = std::log(z_1);

  int32_t token;
  if (greedy) {
    // 3. greedy: the first (lowest) id holding the max
    token = int32_t(std::find(l, l + vocab, lmax) - l);
    kept_ids_[0] = token;
    kept_probs_[0] = 1.0f;
    kept_n_ = 1;
  } else if (!truncating) {
    // 8. the full distribution, in id order: skip the blocks whose mass keeps
    // the running sum at or below the target, then walk token by token. The
    // block sums are exp_sum's, so this is the token-by-token walk from 0 up
    // to rounding (a target within ~1e-7 relative of a boundary).
    const double target = u * z_t;
    const double* blocks = block_mass_.data();
    const int64_t nb = (vocab + kExpBlock - 1) / kExpBlock;
    double cum = 0.0;
    int64_t b = 0;
    while (b + 1 < nb && cum + blocks[b] <= target) cum += blocks[b++];
    int64_t pick = -1;
    for (int64_t i = b * kExpBlock; i < vocab; i++) {
      cum += w[i];
      if (w[i] > 0.0f) {
        pick = i;  // the last positive weight, should rounding leave cum <= target
        if (cum > target) break;
      }
    }
    for (int64_t i = b * kExpBlock - 1; pick < 0 && i >= 0; i--)  // nothing positive from b on
      if (w[i] > 0.0f) pick = i;
    token = int32_t(pick);
    kept_n_ = size_t(vocab);
    full_z_ = z_t;  // normalised and numbered only if asked (materialize_full_distribution)
  } else {
    // 5-7, then 8. a draw from the kept tokens, renormalised
    const size_t m = truncate(vocab, lmax, inv_t, z_t);
    const int32_t* ids = kept_ids_.data();
    double z_kept = 0.0;
    for (size_t j = 0; j < m; j++) z_kept += w[ids[j]];
    const double target = u * z_kept;
    double cum = 0.0;
    size_t pick = m - 1;  // should rounding leave cum <= target
    for (size_t j = 0; j < m; j++) {
      cum += w[ids[j]];
      if (cum > target) {
        pick = j;
        break;
      }
    }
    token = ids[pick];
    for (size_t j = 0; j < m; j++) kept_probs_[j] = float(w[ids[j]] / z_kept);
    kept_n_ = m;
  }

  SampledToken out{token, float(double(l[token]) - lmax - log_z), {}};
  const int n = int(std::min<int64_t>(params_.top_logprobs, vocab));
  if (n > 0) fill_top_logprobs(vocab, lmax, log_z, n, out.top);
  return out;
}

}  // namespace shog
