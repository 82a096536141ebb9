// Causal GQA attention on the CPU, FlashAttention-2 style (Dao 2023).
//
// Forward, per (batch, head, query tile): stream over key/value tiles up to the
// diagonal, keeping for each query row a running max m, running sum l and an
// unnormalised output O; a new tile rescales O and l by exp(m_old - m_new).
// The result is O / l, and lse = m + log l is saved so the backward can rebuild
// any probability as exp(s - lse) without a second softmax pass.
//
// Backward, per (batch, kv head): for each key/value tile, every query head of
// the group and every query row at or below the diagonal contribute
//   P  = exp(S - lse),  dP = dO V^T,  dS = P * (dP - D)   with D = rowsum(dO * O)
//   dV += P^T dO,  dK += scale * dS^T Q,  dQ += scale * dS K.
// One thread owns a whole (batch, kv head): the dK/dV of a kv head collect from
// all its query heads, so splitting the group across threads would race. The
// price is that the backward has only B*KVH units of parallel work.
//
// Scores are computed against the key tile transposed ([hd][kBc]) so that a
// query's score row is kBc/16 vectors kept in registers. For hd <= 128 the
// kernels are register-blocked over several rows at once (forward_vec,
// backward_vec); wider heads take plain auto-vectorised loops (*_generic).
#include "ops/attention.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <omp.h>

#include "core/error.h"
#include "core/vec_math.h"

namespace shog::ops {
namespace {

constexpr int64_t kBr = 64;  // query rows per tile
constexpr int64_t kBc = 64;  // key/value rows per tile

inline float softmax_exp(float x) { return exp_nonpositive(x); }

// D[g*T + t] = rowsum(dO * O) for every query head g of kv head kvh in batch
// b: the softmax-backward term of FlashAttention-2, shared by both backwards.
inline void rowsum_dout_out(float* D, const float* out, const float* dout, int64_t b, int64_t kvh, int64_t group,
                            int64_t T, int64_t H, int64_t hd) {
  for (int64_t g = 0; g < group; ++g) {
    const int64_t h = kvh * group + g;
    for (int64_t t = 0; t < T; ++t) {
      const float* o = out + ((b * T + t) * H + h) * hd;
      const float* go = dout + ((b * T + t) * H + h) * hd;
      float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
      for (int64_t d = 0; d < hd; ++d) acc += o[d] * go[d];
      D[g * T + t] = acc;
    }
  }
}


// Per-thread scratch that grows once to the largest shape seen, so repeated
// calls do not allocate.
float* thread_scratch(size_t n) {
  thread_local std::vector<float> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

void check_shape(const AttentionShape& s) {
  SHOG_CHECK(s.B >= 0 && s.T >= 0 && s.H > 0 && s.KVH > 0 && s.hd > 0, ErrorKind::invalid_argument, "attention",
             "bad shape B={} T={} H={} KVH={} hd={}", s.B, s.T, s.H, s.KVH, s.hd);
  SHOG_CHECK(s.H % s.KVH == 0, ErrorKind::invalid_argument, "attention", "H={} is not a multiple of KVH={}", s.H,
             s.KVH);
  SHOG_CHECK(s.q_stride >= s.H * s.hd, ErrorKind::invalid_argument, "attention", "q_stride={} < H*hd={}",
             s.q_stride, s.H * s.hd);
  SHOG_CHECK(s.kv_stride >= s.KVH * s.hd, ErrorKind::invalid_argument, "attention", "kv_stride={} < KVH*hd={}",
             s.kv_stride, s.KVH * s.hd);
}

// Copies rows [k0, k0+cols) of one kv head into [hd][kBc], zero past `cols` so
// full-width vector loops read defined values.
inline void transpose_tile(float* dst, const float* src, int64_t stride, int64_t cols, int64_t hd) {
  for (int64_t c = 0; c < cols; ++c) {
    const float* row = src + c * stride;
    for (int64_t d = 0; d < hd; ++d) dst[d * kBc + c] = row[d];
  }
  if (cols < kBc)
    for (int64_t d = 0; d < hd; ++d)
      for (int64_t c = cols; c < kBc; ++c) dst[d * kBc + c] = 0.0f;
}

// Any head size: plain loops the compiler vectorises. Used above hd = 128,
// where the register-blocked kernels below would run out of registers.
void forward_generic(float* out, float* lse, const float* q, const float* k, const float* v, const AttentionShape& s) {
  const int64_t B = s.B, T = s.T, H = s.H, hd = s.hd;
  const int64_t group = H / s.KVH;
  const int64_t n_qt = (T + kBr - 1) / kBr;
  const float scale = 1.0f / std::sqrt(float(hd));
  const int64_t units = B * H * n_qt;

#pragma omp parallel
  {
    float* Qs = thread_scratch(size_t(kBr * hd + hd * kBc + kBr * hd + 2 * kBr));
    float* Kt = Qs + kBr * hd;
    float* O = Kt + hd * kBc;
    float* m = O + kBr * hd;
    float* l = m + kBr;

    // Later query tiles see more keys; handing them out first balances threads.
#pragma omp for schedule(dynamic, 1)
    for (int64_t u = 0; u < units; ++u) {
      const int64_t qt = n_qt - 1 - u % n_qt;
      const int64_t bh = u / n_qt;
      const int64_t b = bh / H, h = bh % H, kvh = h / group;
      const int64_t q0 = qt * kBr, rows = std::min(kBr, T - q0);
      const float* kb = k + b * T * s.kv_stride + kvh * hd;
      const float* vb = v + b * T * s.kv_stride + kvh * hd;

      for (int64_t i = 0; i < rows; ++i) {
        const float* qr = q + (b * T + q0 + i) * s.q_stride + h * hd;
        for (int64_t d = 0; d < hd; ++d) Qs[i * hd + d] = qr[d] * scale;
        for (int64_t d = 0; d < hd; ++d) O[i * hd + d] = 0.0f;
        m[i] = -std::numeric_limits<float>::infinity();
        l[i] = 0.0f;
      }

      const int64_t kend = q0 + rows;  // causal: no query in the tile sees past this
      for (int64_t k0 = 0; k0 < kend; k0 += kBc) {
        const int64_t cols = std::min(kBc, kend - k0);
        transpose_tile(Kt, kb + k0 * s.kv_stride, s.kv_stride, cols, hd);
        for (int64_t i = 0; i < rows; ++i) {
          const int64_t lim = std::min(cols, q0 + i - k0 + 1);  // keys this row may see
          if (lim <= 0) continue;
          float sc[kBc];
          for (int64_t c = 0; c < kBc; ++c) sc[c] = 0.0f;
          const float* qi = Qs + i * hd;
          for (int64_t d = 0; d < hd; ++d) {
            const float qd = qi[d];
            const float* kt = Kt + d * kBc;
#pragma omp simd
            for (int64_t c = 0; c < kBc; ++c) sc[c] += qd * kt[c];
          }
          float mx = m[i];
          for (int64_t c = 0; c < kBc; ++c) {
            if (c >= lim) sc[c] = -std::numeric_limits<float>::infinity();
            mx = std::max(mx, sc[c]);
          }
          const float alpha = softmax_exp(m[i] - mx);
          float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
          for (int64_t c = 0; c < kBc; ++c) {
            sc[c] = softmax_exp(sc[c] - mx);
            sum += sc[c];
          }
          l[i] = l[i] * alpha + sum;
          m[i] = mx;
          float* oi = O + i * hd;
          for (int64_t d = 0; d < hd; ++d) oi[d] *= alpha;
          for (int64_t c = 0; c < lim; ++c) {
            const float p = sc[c];
            const float* vr = vb + (k0 + c) * s.kv_stride;
#pragma omp simd
            for (int64_t d = 0; d < hd; ++d) oi[d] += p * vr[d];
          }
        }
      }

      for (int64_t i = 0; i < rows; ++i) {
        const int64_t t = q0 + i;
        const float inv = 1.0f / l[i];
        float* orow = out + ((b * T + t) * H + h) * hd;
        for (int64_t d = 0; d < hd; ++d) orow[d] = O[i * hd + d] * inv;
        lse[(b * H + h) * T + t] = m[i] + std::log(l[i]);
      }
    }
  }
}

void backward_generic(float* dq, float* dk, float* dv, const float* dout, const float* out, const float* lse,
                   const float* q, const float* k, const float* v, const AttentionShape& s) {
  const int64_t B = s.B, T = s.T, H = s.H, KVH = s.KVH, hd = s.hd;
  const int64_t group = H / KVH;
  const float scale = 1.0f / std::sqrt(float(hd));
  const int64_t units = B * KVH;

#pragma omp parallel
  {
    // D for every query head of the group, then the per-tile buffers.
    float* D = thread_scratch(size_t(group * T + 4 * hd * kBc + 2 * kBr * kBc));
    float* Kt = D + group * T;
    float* Vt = Kt + hd * kBc;
    float* dK = Vt + hd * kBc;  // [kBc][hd], unscaled until written back
    float* dV = dK + kBc * hd;  // [kBc][hd]
    float* P = dV + kBc * hd;   // [kBr][kBc]
    float* dS = P + kBr * kBc;  // [kBr][kBc]

#pragma omp for schedule(dynamic, 1)
    for (int64_t u = 0; u < units; ++u) {
      const int64_t b = u / KVH, kvh = u % KVH;
      const int64_t kv_off = b * T * s.kv_stride + kvh * hd;

      rowsum_dout_out(D, out, dout, b, kvh, group, T, H, hd);

      for (int64_t k0 = 0; k0 < T; k0 += kBc) {
        const int64_t cols = std::min(kBc, T - k0);
        const float* kr0 = k + kv_off + k0 * s.kv_stride;
        const float* vr0 = v + kv_off + k0 * s.kv_stride;
        transpose_tile(Kt, kr0, s.kv_stride, cols, hd);
        transpose_tile(Vt, vr0, s.kv_stride, cols, hd);
        std::fill(dK, dK + kBc * hd, 0.0f);
        std::fill(dV, dV + kBc * hd, 0.0f);

        for (int64_t g = 0; g < group; ++g) {
          const int64_t h = kvh * group + g;
          const float* lse_h = lse + (b * H + h) * T;
          const float* D_h = D + g * T;
          // Query rows before k0 see none of this tile's keys.
          for (int64_t t0 = k0; t0 < T; t0 += kBr) {
            const int64_t rows = std::min(kBr, T - t0);
            for (int64_t i = 0; i < rows; ++i) {
              const int64_t t = t0 + i;
              const float* qr = q + (b * T + t) * s.q_stride + h * hd;
              const float* gor = dout + ((b * T + t) * H + h) * hd;
              float sc[kBc], dp[kBc];
              for (int64_t c = 0; c < kBc; ++c) sc[c] = dp[c] = 0.0f;
              for (int64_t d = 0; d < hd; ++d) {
                const float qd = qr[d], gd = gor[d];
                const float* kt = Kt + d * kBc;
                const float* vt = Vt + d * kBc;
#pragma omp simd
                for (int64_t c = 0; c < kBc; ++c) {
                  sc[c] += qd * kt[c];
                  dp[c] += gd * vt[c];
                }
              }
              const int64_t lim = std::min(cols, t - k0 + 1);
              const float l_t = lse_h[t], D_t = D_h[t];
              float* pr = P + i * kBc;
              float* dsr = dS + i * kBc;
#pragma omp simd
              for (int64_t c = 0; c < kBc; ++c) {
                const float p = c < lim ? softmax_exp(sc[c] * scale - l_t) : 0.0f;
                pr[c] = p;
                dsr[c] = p * (dp[c] - D_t);
              }
            }
            // dV and dK rows stay in registers while the tile's query rows stream by.
            for (int64_t c = 0; c < cols; ++c) {
              float* dvc = dV + c * hd;
              float* dkc = dK + c * hd;
              const int64_t i0 = std::max<int64_t>(0, k0 + c - t0);  // rows before key c are masked
              for (int64_t i = i0; i < rows; ++i) {
                const float p = P[i * kBc + c], ds = dS[i * kBc + c];
                const float* gor = dout + ((b * T + t0 + i) * H + h) * hd;
                const float* qr = q + (b * T + t0 + i) * s.q_stride + h * hd;
#pragma omp simd
                for (int64_t d = 0; d < hd; ++d) {
                  dvc[d] += p * gor[d];
                  dkc[d] += ds * qr[d];
                }
              }
            }
            for (int64_t i = 0; i < rows; ++i) {
              const int64_t t = t0 + i;
              float* dqr = dq + (b * T + t) * s.q_stride + h * hd;
              const float* dsr = dS + i * kBc;
              const int64_t lim = std::min(cols, t - k0 + 1);
              for (int64_t c = 0; c < lim; ++c) {
                const float ds = dsr[c] * scale;
                const float* kr = kr0 + c * s.kv_stride;
#pragma omp simd
                for (int64_t d = 0; d < hd; ++d) dqr[d] += ds * kr[d];
              }
            }
          }
        }

        for (int64_t c = 0; c < cols; ++c) {
          float* dkr = dk + kv_off + (k0 + c) * s.kv_stride;
          float* dvr = dv + kv_off + (k0 + c) * s.kv_stride;
          for (int64_t d = 0; d < hd; ++d) {
            dkr[d] += dK[c * hd + d] * scale;
            dvr[d] += dV[c * hd + d];
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Register-blocked path for hd <= 128. GCC/Clang vector extensions (16 floats,
// one zmm under AVX-512, split by the compiler on narrower ISAs) make the
// blocking explicit: the auto-vectorised loops above reload and re-store their
// accumulators every step and are load-bound. Head rows are padded to
// NV * 16 floats in scratch so every vector op is full width.

using vf = float __attribute__((vector_size(64)));
using vi = int32_t __attribute__((vector_size(64)));
constexpr int64_t kLanes = 16;
constexpr int64_t kCv = kBc / kLanes;  // vectors per score row

inline vf vload(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void vstore(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
// Written out lane by lane: `vf{} + x` would have to compute 0 + x (not a
// no-op for x = -0) and costs an add before every broadcast.
inline vf vbcast(float x) { return vf{x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }
inline vf vmax(vf a, vf b) { return a > b ? a : b; }
inline float hmax(vf v) {
  float m = v[0];
  for (int i = 1; i < kLanes; ++i) m = std::max(m, v[i]);
  return m;
}
inline float hsum(vf v) {
  float s = 0.0f;
  for (int i = 0; i < kLanes; ++i) s += v[i];
  return s;
}
// exp_nonpositive (core/vec_math.h) on 16 lanes: same reduction, same
// polynomial, same clamping, so the scalar and vector paths agree.
inline vf vexp(vf x_in) {
  const vf lo = vbcast(-87.0f);
  const vf x = x_in < lo ? lo : x_in;
  const vf t = x * 1.44269504088896341f;
  const vf n = (t + 12582912.0f) - 12582912.0f;
  vf f = x - n * 0.693145751953125f;
  f = f - n * 1.428606765330187e-06f;
  vf p = vbcast(1.0f / 5040);
  p = p * f + 1.0f / 720;
  p = p * f + 1.0f / 120;
  p = p * f + 1.0f / 24;
  p = p * f + 1.0f / 6;
  p = p * f + 0.5f;
  p = p * f + 1.0f;
  p = p * f + 1.0f;
  const vi e = (__builtin_convertvector(n, vi) + 127) << 23;
  vf scale;
  std::memcpy(&scale, &e, sizeof scale);
  return x_in < lo ? vf{} : p * scale;
}
// Lane index of each element of score vector j, for the causal mask.
inline vf lane_index(int64_t j) {
  vf v;
  for (int i = 0; i < kLanes; ++i) v[i] = float(j * kLanes + i);
  return v;
}

// S[r][:] = sum_d A[r][d] * Bt[d][:] for kR rows of A (row stride lda), the
// kBc-wide score rows held in registers through the whole d loop.
template <int kR>
inline void score_rows(vf (&acc)[kR][kCv], const float* A, int64_t lda, const float* Bt, int64_t hd) {
  for (int r = 0; r < kR; ++r)
    for (int j = 0; j < kCv; ++j) acc[r][j] = vf{};
  for (int64_t d = 0; d < hd; ++d) {
    vf b[kCv];
    for (int j = 0; j < kCv; ++j) b[j] = vload(Bt + d * kBc + j * kLanes);
    for (int r = 0; r < kR; ++r) {
      const vf a = vbcast(A[r * lda + d]);
      for (int j = 0; j < kCv; ++j) acc[r][j] += a * b[j];
    }
  }
}

// Out[r][:] (+)= sum_{c < n} Coef[r][c] * Rows[c][:] for kR rows, NV vectors wide.
template <int kR, int NV>
inline void combine_rows(vf (&acc)[kR][NV], const float* coef, int64_t ldcoef, const float* rows, int64_t ldrows,
                         int64_t n) {
  for (int64_t c = 0; c < n; ++c) {
    vf x[NV];
    for (int j = 0; j < NV; ++j) x[j] = vload(rows + c * ldrows + j * kLanes);
    for (int r = 0; r < kR; ++r) {
      const vf a = vbcast(coef[r * ldcoef + c]);
      for (int j = 0; j < NV; ++j) acc[r][j] += a * x[j];
    }
  }
}

// Copies `rows` rows of hd floats (source stride `stride`) into a dense
// [kBr-or-kBc][hdp] block, scaled, zero in the padding lanes and rows.
inline void load_rows(float* dst, int64_t hdp, const float* src, int64_t stride, int64_t rows, int64_t max_rows,
                      int64_t hd, float scale) {
  for (int64_t r = 0; r < max_rows; ++r) {
    float* d = dst + r * hdp;
    if (r < rows) {
      const float* s = src + r * stride;
      for (int64_t e = 0; e < hd; ++e) d[e] = s[e] * scale;
      for (int64_t e = hd; e < hdp; ++e) d[e] = 0.0f;
    } else {
      for (int64_t e = 0; e < hdp; ++e) d[e] = 0.0f;
    }
  }
}

template <int NV>
void forward_vec(float* out, float* lse, const float* q, const float* k, const float* v, const AttentionShape& s) {
  constexpr int64_t hdp = NV * kLanes;
  constexpr int kR = NV <= 4 ? 4 : 2;  // rows per block: kR * NV accumulators fit the 32 registers
  static_assert(kBr % kR == 0);
  const int64_t B = s.B, T = s.T, H = s.H, hd = s.hd;
  const int64_t group = H / s.KVH;
  const int64_t n_qt = (T + kBr - 1) / kBr;
  const float scale = 1.0f / std::sqrt(float(hd));
  const int64_t units = B * H * n_qt;

#pragma omp parallel
  {
    float* Qs = thread_scratch(size_t(kBr * hdp + hd * kBc + kBc * hdp + kBr * hdp + kBr * kBc + 2 * kBr));
    float* Kt = Qs + kBr * hdp;   // [hd][kBc]
    float* Vs = Kt + hd * kBc;    // [kBc][hdp]
    float* O = Vs + kBc * hdp;    // [kBr][hdp], unnormalised
    float* P = O + kBr * hdp;     // [kBr][kBc]
    float* m = P + kBr * kBc;
    float* l = m + kBr;

#pragma omp for schedule(dynamic, 1)
    for (int64_t u = 0; u < units; ++u) {
      const int64_t qt = n_qt - 1 - u % n_qt;  // long tiles first
      const int64_t bh = u / n_qt;
      const int64_t b = bh / H, h = bh % H, kvh = h / group;
      const int64_t q0 = qt * kBr, rows = std::min(kBr, T - q0);
      const int64_t rows_r = (rows + kR - 1) / kR * kR;
      const float* kb = k + b * T * s.kv_stride + kvh * hd;
      const float* vb = v + b * T * s.kv_stride + kvh * hd;

      load_rows(Qs, hdp, q + (b * T + q0) * s.q_stride + h * hd, s.q_stride, rows, rows_r, hd, scale);
      std::fill(O, O + rows_r * hdp, 0.0f);
      std::fill(m, m + kBr, -std::numeric_limits<float>::infinity());
      std::fill(l, l + kBr, 0.0f);

      const int64_t kend = q0 + rows;
      for (int64_t k0 = 0; k0 < kend; k0 += kBc) {
        const int64_t cols = std::min(kBc, kend - k0);
        transpose_tile(Kt, kb + k0 * s.kv_stride, s.kv_stride, cols, hd);
        load_rows(Vs, hdp, vb + k0 * s.kv_stride, s.kv_stride, cols, kBc, hd, 1.0f);
        for (int64_t i = 0; i < rows_r; i += kR) {
          vf sc[kR][kCv];
          score_rows<kR>(sc, Qs + i * hdp, hdp, Kt, hd);
          float alpha[kR];
          for (int r = 0; r < kR; ++r) {
            // Keys this row may see; rows past the tile see everything (harmless).
            const vf lim = vbcast(float(std::min(cols, q0 + i + r - k0 + 1)));
            vf mx = vbcast(m[i + r]);
            for (int j = 0; j < kCv; ++j) {
              sc[r][j] = lane_index(j) < lim ? sc[r][j] : vbcast(-std::numeric_limits<float>::infinity());
              mx = vmax(mx, sc[r][j]);
            }
            const float mnew = hmax(mx);
            // A row that has seen no key yet (possible only if tiles were
            // misaligned) keeps m = -inf; subtracting 0 then keeps its p at 0
            // instead of exp(-inf + inf) = NaN.
            const float msub = mnew == -std::numeric_limits<float>::infinity() ? 0.0f : mnew;
            vf sum{};
            for (int j = 0; j < kCv; ++j) {
              const vf p = vexp(sc[r][j] - msub);
              vstore(P + (i + r) * kBc + j * kLanes, p);
              sum += p;
            }
            alpha[r] = mnew == -std::numeric_limits<float>::infinity() ? 1.0f : softmax_exp(m[i + r] - mnew);
            l[i + r] = l[i + r] * alpha[r] + hsum(sum);
            m[i + r] = mnew;
          }
          vf acc[kR][NV];
          for (int r = 0; r < kR; ++r)
            for (int j = 0; j < NV; ++j) acc[r][j] = vload(O + (i + r) * hdp + j * kLanes) * alpha[r];
          const int64_t n = std::min(cols, q0 + i + kR - k0);  // widest row of the block
          if (n > 0) combine_rows<kR, NV>(acc, P + i * kBc, kBc, Vs, hdp, n);
          for (int r = 0; r < kR; ++r)
            for (int j = 0; j < NV; ++j) vstore(O + (i + r) * hdp + j * kLanes, acc[r][j]);
        }
      }

      for (int64_t i = 0; i < rows; ++i) {
        const int64_t t = q0 + i;
        const float inv = 1.0f / l[i];
        float* orow = out + ((b * T + t) * H + h) * hd;
        for (int64_t d = 0; d < hd; ++d) orow[d] = O[i * hdp + d] * inv;
        lse[(b * H + h) * T + t] = m[i] + std::log(l[i]);
      }
    }
  }
}

template <int NV>
void backward_vec(float* dq, float* dk, float* dv, const float* dout, const float* out, const float* lse,
                  const float* q, const float* k, const float* v, const AttentionShape& s) {
  constexpr int64_t hdp = NV * kLanes;
  constexpr int kR = NV <= 4 ? 4 : 2;
  const int64_t B = s.B, T = s.T, H = s.H, KVH = s.KVH, hd = s.hd;
  const int64_t group = H / KVH;
  const float scale = 1.0f / std::sqrt(float(hd));
  const int64_t units = B * KVH;

#pragma omp parallel
  {
    float* D = thread_scratch(size_t(group * T + 2 * hd * kBc + 3 * kBc * hdp + 2 * kBr * hdp + 2 * kBr * kBc));
    float* Kt = D + group * T;     // [hd][kBc]
    float* Vt = Kt + hd * kBc;     // [hd][kBc]
    float* Ks = Vt + hd * kBc;     // [kBc][hdp]
    float* dK = Ks + kBc * hdp;    // [kBc][hdp]; Q arrives pre-scaled, so dK needs no scale
    float* dV = dK + kBc * hdp;    // [kBc][hdp]
    float* Qs = dV + kBc * hdp;    // [kBr][hdp], scaled by 1/sqrt(hd)
    float* dOs = Qs + kBr * hdp;   // [kBr][hdp]
    float* P = dOs + kBr * hdp;    // [kBr][kBc]
    float* dS = P + kBr * kBc;     // [kBr][kBc]

#pragma omp for schedule(dynamic, 1)
    for (int64_t u = 0; u < units; ++u) {
      const int64_t b = u / KVH, kvh = u % KVH;
      const int64_t kv_off = b * T * s.kv_stride + kvh * hd;

      rowsum_dout_out(D, out, dout, b, kvh, group, T, H, hd);

      for (int64_t k0 = 0; k0 < T; k0 += kBc) {
        const int64_t cols = std::min(kBc, T - k0);
        transpose_tile(Kt, k + kv_off + k0 * s.kv_stride, s.kv_stride, cols, hd);
        transpose_tile(Vt, v + kv_off + k0 * s.kv_stride, s.kv_stride, cols, hd);
        load_rows(Ks, hdp, k + kv_off + k0 * s.kv_stride, s.kv_stride, cols, kBc, hd, 1.0f);
        std::fill(dK, dK + kBc * hdp, 0.0f);
        std::fill(dV, dV + kBc * hdp, 0.0f);

        for (int64_t g = 0; g < group; ++g) {
          const int64_t h = kvh * group + g;
          const float* lse_h = lse + (b * H + h) * T;
          const float* D_h = D + g * T;
          for (int64_t t0 = k0; t0 < T; t0 += kBr) {  // rows before k0 see none of these keys
            const int64_t rows = std::min(kBr, T - t0);
            const int64_t rows_r = (rows + kR - 1) / kR * kR;
            load_rows(Qs, hdp, q + (b * T + t0) * s.q_stride + h * hd, s.q_stride, rows, rows_r, hd, scale);
            load_rows(dOs, hdp, dout + ((b * T + t0) * H + h) * hd, H * hd, rows, rows_r, hd, 1.0f);

            for (int64_t i = 0; i < rows_r; i += kR) {
              vf sc[kR][kCv], dp[kR][kCv];
              score_rows<kR>(sc, Qs + i * hdp, hdp, Kt, hd);
              score_rows<kR>(dp, dOs + i * hdp, hdp, Vt, hd);
              for (int r = 0; r < kR; ++r) {
                const int64_t t = t0 + i + r;
                // Padding rows get P = dS = 0 so they add nothing below.
                const bool real = i + r < rows;
                const vf lim = vbcast(real ? float(std::min(cols, t - k0 + 1)) : 0.0f);
                const vf l_t = vbcast(real ? lse_h[t] : 0.0f), D_t = vbcast(real ? D_h[t] : 0.0f);
                for (int j = 0; j < kCv; ++j) {
                  const vf p = lane_index(j) < lim ? vexp(sc[r][j] - l_t) : vf{};
                  vstore(P + (i + r) * kBc + j * kLanes, p);
                  vstore(dS + (i + r) * kBc + j * kLanes, p * (dp[r][j] - D_t));
                }
              }
            }

            // dV[c] += sum_i P[i][c] dO[i],  dK[c] += sum_i dS[i][c] Qs[i]:
            // kR key rows in registers while the query rows stream by. Rows
            // above key c's diagonal have P = dS = 0, so start at the block's
            // first visible row.
            for (int64_t c = 0; c < cols; c += kR) {
              const int64_t i0 = std::max<int64_t>(0, k0 + c - t0);
              if (i0 >= rows) continue;
              vf acc[kR][NV];
              for (int r = 0; r < kR; ++r)
                for (int j = 0; j < NV; ++j) acc[r][j] = vload(dV + (c + r) * hdp + j * kLanes);
              for (int64_t i = i0; i < rows; ++i) {
                vf x[NV];
                for (int j = 0; j < NV; ++j) x[j] = vload(dOs + i * hdp + j * kLanes);
                for (int r = 0; r < kR; ++r) {
                  const vf a = vbcast(P[i * kBc + c + r]);
                  for (int j = 0; j < NV; ++j) acc[r][j] += a * x[j];
                }
              }
              for (int r = 0; r < kR; ++r)
                for (int j = 0; j < NV; ++j) vstore(dV + (c + r) * hdp + j * kLanes, acc[r][j]);

              for (int r = 0; r < kR; ++r)
                for (int j = 0; j < NV; ++j) acc[r][j] = vload(dK + (c + r) * hdp + j * kLanes);
              for (int64_t i = i0; i < rows; ++i) {
                vf x[NV];
                for (int j = 0; j < NV; ++j) x[j] = vload(Qs + i * hdp + j * kLanes);
                for (int r = 0; r < kR; ++r) {
                  const vf a = vbcast(dS[i * kBc + c + r]);
                  for (int j = 0; j < NV; ++j) acc[r][j] += a * x[j];
                }
              }
              for (int r = 0; r < kR; ++r)
                for (int j = 0; j < NV; ++j) vstore(dK + (c + r) * hdp + j * kLanes, acc[r][j]);
            }

            // dQ[i] += scale * sum_c dS[i][c] K[c]
            for (int64_t i = 0; i < rows; i += kR) {
              vf acc[kR][NV];
              for (int r = 0; r < kR; ++r)
                for (int j = 0; j < NV; ++j) acc[r][j] = vf{};
              const int64_t n = std::min(cols, t0 + i + kR - k0);
              if (n <= 0) continue;
              combine_rows<kR, NV>(acc, dS + i * kBc, kBc, Ks, hdp, n);
              for (int r = 0; r < kR && i + r < rows; ++r) {
                float tmp[hdp];
                for (int j = 0; j < NV; ++j) vstore(tmp + j * kLanes, acc[r][j]);
                float* dqr = dq + (b * T + t0 + i + r) * s.q_stride + h * hd;
                for (int64_t d = 0; d < hd; ++d) dqr[d] += scale * tmp[d];
              }
            }
          }
        }

        for (int64_t c = 0; c < cols; ++c) {
          float* dkr = dk + kv_off + (k0 + c) * s.kv_stride;
          float* dvr = dv + kv_off + (k0 + c) * s.kv_stride;
          for (int64_t d = 0; d < hd; ++d) {
            dkr[d] += dK[c * hdp + d];
            dvr[d] += dV[c * hdp + d];
          }
        }
      }
    }
  }
}

template <int NV>
void dispatch_fwd(float* out, float* lse, const float* q, const float* k, const float* v, const AttentionShape& s) {
  if constexpr (NV <= 8) {
    if ((s.hd + kLanes - 1) / kLanes == NV) return forward_vec<NV>(out, lse, q, k, v, s);
    return dispatch_fwd<NV + 1>(out, lse, q, k, v, s);
  } else {
    return forward_generic(out, lse, q, k, v, s);
  }
}

template <int NV>
void dispatch_bwd(float* dq, float* dk, float* dv, const float* dout, const float* out, const float* lse,
                  const float* q, const float* k, const float* v, const AttentionShape& s) {
  if constexpr (NV <= 8) {
    if ((s.hd + kLanes - 1) / kLanes == NV) return backward_vec<NV>(dq, dk, dv, dout, out, lse, q, k, v, s);
    return dispatch_bwd<NV + 1>(dq, dk, dv, dout, out, lse, q, k, v, s);
  } else {
    return backward_generic(dq, dk, dv, dout, out, lse, q, k, v, s);
  }
}

}  // namespace

void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                       const AttentionShape& s) {
  check_shape(s);
  dispatch_fwd<1>(out, lse, q, k, v, s);
}

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* out, const float* lse,
                        const float* q, const float* k, const float* v, const AttentionShape& s) {
  check_shape(s);
  dispatch_bwd<1>(dq, dk, dv, dout, out, lse, q, k, v, s);
}

// Each segment is a B = 1 attention over a view of the buffers: its tokens
// are consecutive in every layout, so only the base pointers move. Segments
// are short (SFT samples), so each call still has H x tiles units of work.
template <typename Fn>
static void for_each_segment(const AttentionShape& s, std::span<const int32_t> seg_lens, Fn&& fn) {
  check_shape(s);
  int64_t row = 0, in_row = 0, g = 0;  // g: first token of the segment in [B*T]
  for (int32_t len : seg_lens) {
    SHOG_CHECK(len > 0 && in_row + len <= s.T && row < s.B, ErrorKind::invalid_argument, "attention",
               "segment lengths do not tile the rows (row {}, length {}, T={})", row, len, s.T);
    AttentionShape one = s;
    one.B = 1;
    one.T = len;
    fn(one, g);
    g += len;
    in_row += len;
    if (in_row == s.T) ++row, in_row = 0;
  }
  SHOG_CHECK(row == s.B && in_row == 0, ErrorKind::invalid_argument, "attention",
             "segment lengths cover {} of {} rows", row, s.B);
}

void attention_forward_packed(float* out, float* lse, const float* q, const float* k, const float* v,
                              const AttentionShape& s, std::span<const int32_t> seg_lens) {
  for_each_segment(s, seg_lens, [&](const AttentionShape& one, int64_t g) {
    dispatch_fwd<1>(out + g * s.H * s.hd, lse + g * s.H, q + g * s.q_stride, k + g * s.kv_stride,
                    v + g * s.kv_stride, one);
  });
}

void attention_backward_packed(float* dq, float* dk, float* dv, const float* dout, const float* out,
                               const float* lse, const float* q, const float* k, const float* v,
                               const AttentionShape& s, std::span<const int32_t> seg_lens) {
  for_each_segment(s, seg_lens, [&](const AttentionShape& one, int64_t g) {
    const int64_t o = g * s.H * s.hd;
    dispatch_bwd<1>(dq + g * s.q_stride, dk + g * s.kv_stride, dv + g * s.kv_stride, dout + o, out + o,
                    lse + g * s.H, q + g * s.q_stride, k + g * s.kv_stride, v + g * s.kv_stride, one);
  });
}

}  // namespace shog::ops
