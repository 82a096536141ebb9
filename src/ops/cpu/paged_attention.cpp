// Paged attention on the CPU: an online softmax (Milakov & Gimelshein 2018)
// streamed over a sequence's cache blocks, one block of BS keys at a time.
//
// A unit of work is (sequence, a run of kv heads, tile of up to kQTile
// queries): all the query heads of each kv head's group and all queries of the
// tile are rows that share every K/V block they load, which is what makes
// grouped-query decode cheap in memory traffic. Prefill units take one kv head
// each (there is arithmetic enough per block). A decode unit (one query) takes
// as many kv heads as keeps every thread busy, all of them in a wide batch: a
// block's keys for all kv heads are one contiguous run (likewise its values),
// so the unit reads each block as two long sequential streams instead of
// KVH scattered 2-4 KB pieces, which at one query per row left decode
// attention waiting on memory at a fraction of the bandwidth. Units go to the
// threads round robin, longest first, so each thread knows its next unit and
// fetches that unit's first blocks while it finishes the current one (with
// dynamic scheduling those blocks were cold: a third of a decode unit's
// ~6 blocks at d12's contexts).
//
// Per row: scores of one block are s[j] = sum_d q[d] * Kt[d][j] over the
// transposed key block, i.e. hd broadcast-FMAs on a BS-lane vector; then
//   m' = max(m, max_j s_j),  a = exp(m - m'),  p_j = exp(s_j - m'),
//   l = a l + sum p,  O = a O + sum_j p_j V[j]
// and the output is O / l.
#include "ops/paged_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <immintrin.h>
#include <omp.h>

#include "core/error.h"
#include "core/vec_math.h"

namespace shog::ops {
namespace {

constexpr int64_t kQTile = 16;  // queries per unit (prefill); decode has 1
constexpr int64_t kPrefetchBlocks = 2;  // how far ahead a unit prefetches its cache blocks

inline float to_f32(float v) { return v; }
inline float to_f32(bf16 v) { return bf16_to_f32(v); }
inline void from_f32(float v, float& out) { out = v; }
inline void from_f32(float v, bf16& out) { out = f32_to_bf16(v); }

#ifdef __AVX512F__
inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
// GCC 12 warns that the "undefined" source inside the widening intrinsic is
// uninitialised (GCC bug 105593); every lane is written.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
inline __m512 load16(const bf16* p) {
  // bf16 is the top half of an f32: widen to 32 bits and shift into place.
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
#pragma GCC diagnostic pop

// The two inner loops for BS = 16 (one zmm of scores), written out because
// the auto-vectorised forms are latency-bound: one accumulator chain through
// all hd FMAs of the scores, and the output row read and written back once
// per key instead of kept in a register.
template <class KV>
inline void scores16(float* sc, const float* q, const KV* Kt, int64_t hd) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t d = 0;
  for (; d + 4 <= hd; d += 4) {
    a0 = _mm512_fmadd_ps(_mm512_set1_ps(q[d]), load16(Kt + d * 16), a0);
    a1 = _mm512_fmadd_ps(_mm512_set1_ps(q[d + 1]), load16(Kt + (d + 1) * 16), a1);
    a2 = _mm512_fmadd_ps(_mm512_set1_ps(q[d + 2]), load16(Kt + (d + 2) * 16), a2);
    a3 = _mm512_fmadd_ps(_mm512_set1_ps(q[d + 3]), load16(Kt + (d + 3) * 16), a3);
  }
  for (; d < hd; ++d) a0 = _mm512_fmadd_ps(_mm512_set1_ps(q[d]), load16(Kt + d * 16), a0);
  _mm512_storeu_ps(sc, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

// o = alpha o + sum_{j < valid} p[j] V[j]. Four 16-column pieces of o are
// kept in registers at once and each key adds into all four: four independent
// FMA chains, where one piece at a time would wait on each FMA's latency.
template <class KV>
inline void accumulate16(float* o, const float* p, const KV* V, int64_t valid, int64_t hd, float alpha) {
  int64_t c = 0;
  const __m512 al = _mm512_set1_ps(alpha);
  for (; c + 64 <= hd; c += 64) {
    __m512 a0 = _mm512_mul_ps(_mm512_loadu_ps(o + c), al), a1 = _mm512_mul_ps(_mm512_loadu_ps(o + c + 16), al);
    __m512 a2 = _mm512_mul_ps(_mm512_loadu_ps(o + c + 32), al), a3 = _mm512_mul_ps(_mm512_loadu_ps(o + c + 48), al);
    for (int64_t j = 0; j < valid; ++j) {
      const __m512 pj = _mm512_set1_ps(p[j]);
      const KV* vj = V + j * hd + c;
      a0 = _mm512_fmadd_ps(pj, load16(vj), a0);
      a1 = _mm512_fmadd_ps(pj, load16(vj + 16), a1);
      a2 = _mm512_fmadd_ps(pj, load16(vj + 32), a2);
      a3 = _mm512_fmadd_ps(pj, load16(vj + 48), a3);
    }
    _mm512_storeu_ps(o + c, a0), _mm512_storeu_ps(o + c + 16, a1);
    _mm512_storeu_ps(o + c + 32, a2), _mm512_storeu_ps(o + c + 48, a3);
  }
  for (; c + 16 <= hd; c += 16) {
    __m512 a0 = _mm512_mul_ps(_mm512_loadu_ps(o + c), al), a1 = _mm512_setzero_ps();
    int64_t j = 0;
    for (; j + 2 <= valid; j += 2) {
      a0 = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), load16(V + j * hd + c), a0);
      a1 = _mm512_fmadd_ps(_mm512_set1_ps(p[j + 1]), load16(V + (j + 1) * hd + c), a1);
    }
    if (j < valid) a0 = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), load16(V + j * hd + c), a0);
    _mm512_storeu_ps(o + c, _mm512_add_ps(a0, a1));
  }
  for (; c < hd; ++c) {
    float acc = o[c] * alpha;
    for (int64_t j = 0; j < valid; ++j) acc += p[j] * to_f32(V[j * hd + c]);
    o[c] = acc;
  }
}
#endif

// Asks for one kv head's keys and values of a block (k, v: the block's start)
// into L2, not L1: a decode unit's two blocks ahead are 2 x 48 KB for d12,
// more than L1 holds, so T0 lines were evicted before their use (d12 bf16,
// 16 rows: attention 2.67-2.70 ms a step against 2.76-3.35 with T0).
template <class KV>
inline void prefetch_block(const KV* k, const KV* v, int64_t kvh, int64_t hd, int64_t BS) {
  const char* nk = reinterpret_cast<const char*>(k + kvh * hd * BS);
  const char* nv = reinterpret_cast<const char*>(v + kvh * BS * hd);
  for (int64_t b = 0; b < int64_t(hd * BS * sizeof(KV)); b += 64) {
    _mm_prefetch(nk + b, _MM_HINT_T1);
    _mm_prefetch(nv + b, _MM_HINT_T1);
  }
}

// One token's key and value for kv heads [g0, g1) (k, v: its heads [KVH][hd])
// into the cache at `slot`.
template <class KV>
inline void store_token(KV* k_cache, KV* v_cache, const float* k, const float* v, int64_t slot, int64_t g0,
                        int64_t g1, const PagedAttentionShape& s) {
  const int64_t BS = s.block_size, hd = s.hd, block_floats = s.KVH * hd * BS;
  const int64_t b = slot / BS, j = slot % BS;
  for (int64_t g = g0; g < g1; ++g) {
    KV* Kt = k_cache + b * block_floats + g * hd * BS;
    KV* V = v_cache + b * block_floats + g * BS * hd + j * hd;
    for (int64_t d = 0; d < hd; ++d) from_f32(k[g * hd + d], Kt[d * BS + j]);
    for (int64_t d = 0; d < hd; ++d) from_f32(v[g * hd + d], V[d]);
  }
}

struct Unit {
  int64_t seq, kvh_begin, kvh_end, q_begin, q_end;  // kv heads [kvh_begin, kvh_end), queries [q_begin, q_end)
};

template <int64_t BS, class KV>
void attend(float* out, const float* q, KV* k_cache, KV* v_cache, const PagedSequence* seqs, int64_t n_seqs,
            const std::vector<Unit>& units, const PagedAttentionShape& s, const PagedNewKv* fresh) {
  const int64_t H = s.H, hd = s.hd, group = s.H / s.KVH;
  const float scale = 1.0f / std::sqrt(float(hd));
  const int64_t block_floats = s.KVH * hd * BS;
  int64_t max_rows = 0;
  for (const Unit& u : units) max_rows = std::max(max_rows, (u.kvh_end - u.kvh_begin) * (u.q_end - u.q_begin) * group);
  const int64_t n_units = int64_t(units.size());
  // Rows of prefill chunks, whose keys go in before any unit reads (a
  // decode row's are stored by its own units).
  std::vector<int64_t> early_rows;
  if (fresh)
    for (int64_t i = 0; i < n_seqs; ++i)
      if (seqs[i].n_q != 1)
        for (int64_t r = seqs[i].q_row; r < seqs[i].q_row + seqs[i].n_q; ++r) early_rows.push_back(r);
  const int64_t n_early = int64_t(early_rows.size());

#pragma omp parallel
  {
    if (n_early > 0) {
#pragma omp for schedule(static)
      for (int64_t e = 0; e < n_early; ++e) {
        const int64_t r = early_rows[size_t(e)];
        store_token(k_cache, v_cache, fresh->k + r * fresh->stride, fresh->v + r * fresh->stride, fresh->slot[r], 0,
                    s.KVH, s);
      }  // the loop's barrier: every chunk's keys are in before any unit reads
    }
    // Per-thread scratch, grown once: scaled queries, accumulators, m and l.
    thread_local std::vector<float> scratch;
    const size_t need = size_t(2 * max_rows * hd + 2 * max_rows);
    if (scratch.size() < need) scratch.resize(need);
    float* Q = scratch.data();
    float* O = Q + max_rows * hd;
    float* m = O + max_rows * hd;
    float* l = m + max_rows;

    // Round robin over the units, longest first (see paged_attention_forward),
    // so that each thread knows its next unit and can fetch that unit's first
    // blocks while it computes the last of this one.
    const int64_t n_threads = omp_get_num_threads();
#pragma omp for schedule(static, 1)
    for (int64_t ui = 0; ui < n_units; ++ui) {
      const Unit& u = units[size_t(ui)];
      const PagedSequence& sq = seqs[u.seq];
      const Unit* nu = ui + n_threads < n_units ? &units[size_t(ui + n_threads)] : nullptr;
      const int64_t nu_blocks = nu ? (seqs[nu->seq].pos0 + nu->q_end - 1) / BS + 1 : 0;
      const int64_t nq = u.q_end - u.q_begin, head_rows = nq * group, n_kv = u.kvh_end - u.kvh_begin;
      // Row r = (kv head c of the unit, query i of the tile, head g of the
      // group): r = (c * nq + i) * group + g.
      for (int64_t c = 0; c < n_kv; ++c)
        for (int64_t i = 0; i < nq; ++i)
          for (int64_t g = 0; g < group; ++g) {
            const int64_t r = (c * nq + i) * group + g, h = (u.kvh_begin + c) * group + g;
            const float* qr = q + (sq.q_row + u.q_begin + i) * s.q_stride + h * hd;
            for (int64_t d = 0; d < hd; ++d) Q[r * hd + d] = qr[d] * scale;
            for (int64_t d = 0; d < hd; ++d) O[r * hd + d] = 0.0f;
            m[r] = -std::numeric_limits<float>::infinity();
            l[r] = 0.0f;
          }
      const int64_t last_pos = sq.pos0 + u.q_end - 1;  // the furthest key any row of the unit sees
      const int64_t n_blocks = last_pos / BS + 1;
      const bool store_here = fresh && sq.n_q == 1;  // a decode row: this unit writes its heads' key and value
      for (int64_t kb = 0; kb < n_blocks; ++kb) {
        const int64_t base = int64_t(sq.blocks[kb]) * block_floats;
        if (store_here && kb == n_blocks - 1)
          store_token(k_cache, v_cache, fresh->k + sq.q_row * fresh->stride, fresh->v + sq.q_row * fresh->stride,
                      fresh->slot[sq.q_row], u.kvh_begin, u.kvh_end, s);
        const int64_t k0 = kb * BS;
        // The block kPrefetchBlocks ahead in this thread's stream of blocks:
        // this unit's, or past its end the next unit's (kv head c of this
        // unit then stands for kv head c of that one).
        const int64_t pb = kb + kPrefetchBlocks;
        int64_t next = -1, next_kvh0 = u.kvh_begin, next_kvh_end = u.kvh_end;
        if (pb < n_blocks) {
          next = int64_t(sq.blocks[pb]) * block_floats;
        } else if (pb - n_blocks < nu_blocks) {
          next = int64_t(seqs[nu->seq].blocks[pb - n_blocks]) * block_floats;
          next_kvh0 = nu->kvh_begin, next_kvh_end = nu->kvh_end;
        }
        for (int64_t c = 0; c < n_kv; ++c) {
          const int64_t kvh = u.kvh_begin + c;
          const KV* Kt = k_cache + base + kvh * hd * BS;
          const KV* V = v_cache + base + kvh * BS * hd;
          // Blocks are scattered over the pool, which no hardware prefetcher
          // predicts: ask for this kv head's keys and values kPrefetchBlocks
          // ahead now, so they arrive while this block and the next are
          // computed (a decode row spends less time on a block than memory
          // takes to answer).
          if (next >= 0 && next_kvh0 + c < next_kvh_end)
            prefetch_block(k_cache + next, v_cache + next, next_kvh0 + c, hd, BS);
          for (int64_t r = c * head_rows; r < (c + 1) * head_rows; ++r) {
            const int64_t pos = sq.pos0 + u.q_begin + (r % head_rows) / group;
            const int64_t valid = std::min<int64_t>(BS, pos - k0 + 1);  // keys of this block the row may see
            if (valid <= 0) continue;
            alignas(64) float sc[BS];
            const float* qr = Q + r * hd;
#ifdef __AVX512F__
            if constexpr (BS == 16) {
              scores16(sc, qr, Kt, hd);
            } else
#endif
            {
#pragma omp simd
              for (int64_t j = 0; j < BS; ++j) sc[j] = 0.0f;
              for (int64_t d = 0; d < hd; ++d) {
                const float qd = qr[d];
                const KV* kd = Kt + d * BS;
#pragma omp simd
                for (int64_t j = 0; j < BS; ++j) sc[j] += qd * to_f32(kd[j]);
              }
            }
            float mx = m[r];
#pragma omp simd reduction(max : mx)
            for (int64_t j = 0; j < BS; ++j) {
              sc[j] = j < valid ? sc[j] : -std::numeric_limits<float>::infinity();
              mx = std::max(mx, sc[j]);
            }
            const float alpha = exp_nonpositive(m[r] - mx);  // 0 on the first block (m = -inf)
            float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
            for (int64_t j = 0; j < BS; ++j) {
              sc[j] = exp_nonpositive(sc[j] - mx);
              sum += sc[j];
            }
            m[r] = mx;
            l[r] = l[r] * alpha + sum;
            float* o = O + r * hd;
#ifdef __AVX512F__
            if constexpr (BS == 16) {
              accumulate16(o, sc, V, valid, hd, alpha);
              continue;
            }
#endif
#pragma omp simd
            for (int64_t d = 0; d < hd; ++d) o[d] *= alpha;
            for (int64_t j = 0; j < valid; ++j) {
              const float p = sc[j];
              const KV* vj = V + j * hd;
#pragma omp simd
              for (int64_t d = 0; d < hd; ++d) o[d] += p * to_f32(vj[d]);
            }
          }
        }
      }
      for (int64_t r = 0; r < n_kv * head_rows; ++r) {
        const int64_t c = r / head_rows, i = (r % head_rows) / group, h = (u.kvh_begin + c) * group + r % group;
        float* orow = out + (sq.q_row + u.q_begin + i) * H * hd + h * hd;
        const float inv = 1.0f / l[r];
#pragma omp simd
        for (int64_t d = 0; d < hd; ++d) orow[d] = O[r * hd + d] * inv;
      }
    }
  }
}

template <class KV>
void attend_any_block(float* out, const float* q, void* k, void* v, const PagedSequence* seqs, int64_t n_seqs,
                      const std::vector<Unit>& units, const PagedAttentionShape& s, const PagedNewKv* fresh) {
  KV* kc = static_cast<KV*>(k);
  KV* vc = static_cast<KV*>(v);
  switch (s.block_size) {
    case 8: attend<8>(out, q, kc, vc, seqs, n_seqs, units, s, fresh); break;
    case 16: attend<16>(out, q, kc, vc, seqs, n_seqs, units, s, fresh); break;
    case 32: attend<32>(out, q, kc, vc, seqs, n_seqs, units, s, fresh); break;
    default: attend<64>(out, q, kc, vc, seqs, n_seqs, units, s, fresh); break;
  }
}

template <class KV>
void store(KV* k_cache, KV* v_cache, const float* k, const float* v, int64_t kv_stride, const int64_t* slot,
           int64_t N, const PagedAttentionShape& s) {
#pragma omp parallel for schedule(static) if (N > 8)
  for (int64_t n = 0; n < N; ++n) store_token(k_cache, v_cache, k + n * kv_stride, v + n * kv_stride, slot[n], 0, s.KVH, s);
}

void check_shape(const PagedAttentionShape& s) {
  SHOG_CHECK(s.H > 0 && s.KVH > 0 && s.hd > 0 && s.H % s.KVH == 0, ErrorKind::invalid_argument, "paged attention",
             "bad heads H={} KVH={} hd={}", s.H, s.KVH, s.hd);
  SHOG_CHECK(s.block_size == 8 || s.block_size == 16 || s.block_size == 32 || s.block_size == 64,
             ErrorKind::invalid_argument, "paged attention", "block size {} must be 8, 16, 32 or 64", s.block_size);
  SHOG_CHECK(s.q_stride >= s.H * s.hd, ErrorKind::invalid_argument, "paged attention", "q_stride {} < H*hd {}",
             s.q_stride, s.H * s.hd);
  SHOG_CHECK(s.kv_dtype == DType::f32 || s.kv_dtype == DType::bf16, ErrorKind::invalid_argument, "paged attention",
             "cache dtype must be f32 or bf16, got {}", dtype_name(s.kv_dtype));
}

}  // namespace

void paged_attention_forward(float* out, const float* q, void* k_cache, void* v_cache,
                             const PagedSequence* seqs, int64_t n_seqs, const PagedAttentionShape& s,
                             const PagedNewKv* fresh) {
  check_shape(s);
  // The unit list is rebuilt per call (a few hundred entries: negligible next
  // to the attention itself); kept thread_local to avoid reallocating.
  thread_local std::vector<Unit> units;
  units.clear();
  // Kv heads per decode unit: all of them once there are enough decode
  // sequences for ~4 units per thread, fewer in a small batch so that every
  // thread still gets work.
  int64_t n_decode = 0;
  for (int64_t i = 0; i < n_seqs; ++i) n_decode += seqs[i].n_q == 1;
  const int64_t threads = omp_get_max_threads();
  const int64_t decode_span = std::clamp<int64_t>(s.KVH * n_decode / std::max<int64_t>(1, 4 * threads), 1, s.KVH);
  for (int64_t i = 0; i < n_seqs; ++i) {
    SHOG_CHECK(seqs[i].n_q >= 0 && seqs[i].pos0 >= 0, ErrorKind::internal, "paged attention",
               "sequence {}: n_q {} pos0 {}", i, seqs[i].n_q, seqs[i].pos0);
    const int64_t span = seqs[i].n_q == 1 ? decode_span : 1;
    for (int64_t q0 = 0; q0 < seqs[i].n_q; q0 += kQTile)
      for (int64_t g = 0; g < s.KVH; g += span)
        units.push_back({i, g, std::min(s.KVH, g + span), q0, std::min(seqs[i].n_q, q0 + kQTile)});
  }
  // Longest contexts first: dealt round robin, that balances the threads.
  std::stable_sort(units.begin(), units.end(), [&](const Unit& a, const Unit& b) {
    return seqs[a.seq].pos0 + a.q_end > seqs[b.seq].pos0 + b.q_end;
  });
  if (s.kv_dtype == DType::bf16)
    attend_any_block<bf16>(out, q, k_cache, v_cache, seqs, n_seqs, units, s, fresh);
  else
    attend_any_block<float>(out, q, k_cache, v_cache, seqs, n_seqs, units, s, fresh);
}

void paged_kv_store(void* k_cache, void* v_cache, const float* k, const float* v, int64_t kv_stride,
                    const int64_t* slot, int64_t N, const PagedAttentionShape& s) {
  check_shape(s);
  if (s.kv_dtype == DType::bf16)
    store(static_cast<bf16*>(k_cache), static_cast<bf16*>(v_cache), k, v, kv_stride, slot, N, s);
  else
    store(static_cast<float*>(k_cache), static_cast<float*>(v_cache), k, v, kv_stride, slot, N, s);
}

}  // namespace shog::ops
