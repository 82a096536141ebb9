// The chunked output head. For each chunk of (active) rows:
//   logits = h W^T                      (gemm, [rows, V])
//   lse    = log sum exp(logits)        (per row, OpenMP over rows)
//   logp   = logits[target] - lse
//   dlogits = g * (onehot(target) - exp(logits - lse)),  g = dL/dlogp
//   dh += dlogits W,  dW += dlogits^T h (gemms, accumulating)
// Only rows that matter enter a chunk: ignored targets never, and rows with no
// gradient (g = 0) not in a backward-only pass, so masked tokens of SFT cost
// nothing. When skipped rows split a chunk, its rows of h are gathered into a
// dense block and its dh scattered back afterwards.
#include "ops/output_head.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/vec_math.h"
#include "ops/gemm.h"

namespace shog::ops {

OutputHeadWorkspace::OutputHeadWorkspace(int64_t C, int64_t V, int64_t chunk_rows)
    : chunk_(chunk_rows),
      logits_(size_t(chunk_rows * V)),
      h_bf16_(size_t(chunk_rows * C)),
      dl_bf16_(size_t(chunk_rows * V)),
      h_f32_(size_t(chunk_rows * C)),
      dh_f32_(size_t(chunk_rows * C)),
      rows_(size_t(chunk_rows)) {
  SHOG_CHECK(C > 0 && V > 0 && chunk_rows > 0, ErrorKind::invalid_argument, "output head workspace",
             "C={} V={} chunk_rows={} must be positive", C, V, chunk_rows);
}

namespace {

inline float softmax_exp(float x) { return exp_nonpositive(x); }

enum class Pass { logprobs, backward, cross_entropy };

// Gathered chunks are padded to a multiple of this many rows (with zero rows)
// so the gemm cache sees a handful of shapes, not one per masking pattern.
constexpr int64_t kRowQuantum = 16;

double run_head(Pass pass, float* logp, float* dh, float* dW, const float* h, const void* W, DType dt,
                const int32_t* targets, const float* gw, int64_t N, int64_t C, int64_t V, OutputHeadWorkspace& ws) {
  SHOG_CHECK(dt == DType::f32 || dt == DType::bf16, ErrorKind::unsupported, "output head",
             "dtype {} not supported (f32 or bf16)", dtype_name(dt));
  SHOG_CHECK(N >= 0 && C > 0 && V > 0, ErrorKind::invalid_argument, "output head", "bad shape N={} C={} V={}", N, C,
             V);
  const int64_t chunk = ws.chunk_rows();
  const bool backward = pass != Pass::logprobs;
  // g per row: dL/dlogp given (backward), or -weight (cross-entropy).
  auto grad_of = [&](int64_t n) { return pass == Pass::backward ? gw[n] : -gw[n]; };
  auto active = [&](int64_t n) {
    const int32_t t = targets[n];
    SHOG_CHECK(t < V, ErrorKind::invalid_argument, "output head", "target {} at row {} >= vocab {}", t, n, V);
    if (t < 0) return false;
    if (pass == Pass::logprobs) return true;
    return gw[n] != 0.0f || (pass == Pass::cross_entropy && logp != nullptr);
  };

  float* logits = ws.logits();
  int64_t* rows = ws.row_index();
  double loss = 0.0;
  int64_t next = 0;
  while (next < N) {
    int64_t cnt = 0;
    for (; next < N && cnt < chunk; ++next) {
      if (active(next))
        rows[cnt++] = next;
      else if (logp && pass != Pass::backward)
        logp[next] = 0.0f;
    }
    if (cnt == 0) break;
    const bool contiguous = rows[cnt - 1] - rows[0] == cnt - 1;
    const int64_t first = rows[0];
    int64_t m = cnt;  // rows the gemms see, padding included
    if (!contiguous) m = std::min(chunk, (cnt + kRowQuantum - 1) / kRowQuantum * kRowQuantum);

    // The chunk's rows of h as the gemms read them.
    const void* hA;
    if (dt == DType::bf16) {
      bf16* hb = ws.h_bf16();
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < m; ++r) {
        bf16* dst = hb + r * C;
        if (r < cnt)
          for (int64_t c = 0; c < C; ++c) dst[c] = f32_to_bf16(h[rows[r] * C + c]);
        else
          std::fill(dst, dst + C, bf16{0});
      }
      hA = hb;
    } else if (contiguous) {
      hA = h + first * C;
    } else {
      float* hg = ws.h_gathered();
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < m; ++r) {
        float* dst = hg + r * C;
        if (r < cnt)
          std::copy(h + rows[r] * C, h + rows[r] * C + C, dst);
        else
          std::fill(dst, dst + C, 0.0f);
      }
      hA = hg;
    }

    gemm(dt, false, true, m, V, C, hA, C, W, C, logits, V, false);

    bf16* dlb = ws.dlogits_bf16();
#pragma omp parallel for schedule(static) reduction(+ : loss)
    for (int64_t r = 0; r < m; ++r) {
      float* x = logits + r * V;
      if (r >= cnt) {  // padding: no gradient
        if (backward) {
          if (dt == DType::bf16)
            std::fill(dlb + r * V, dlb + r * V + V, bf16{0});
          else
            std::fill(x, x + V, 0.0f);
        }
        continue;
      }
      const int64_t n = rows[r];
      const int32_t t = targets[n];
      float mx = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : mx)
      for (int64_t j = 0; j < V; ++j) mx = std::max(mx, x[j]);
      const float xt = x[t];
      float sum = 0.0f;
      if (backward) {
#pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < V; ++j) {
          x[j] = softmax_exp(x[j] - mx);
          sum += x[j];
        }
      } else {
#pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < V; ++j) sum += softmax_exp(x[j] - mx);
      }
      const float lp = xt - mx - std::log(sum);
      if (logp && pass != Pass::backward) logp[n] = lp;
      if (pass == Pass::cross_entropy) loss -= double(gw[n]) * double(lp);
      if (!backward) continue;
      // dlogits = g * (onehot - p) = -g/sum * e + g at the target.
      const float g = grad_of(n);
      const float k = -g / sum;
      if (dt == DType::bf16) {
        bf16* d = dlb + r * V;
#pragma omp simd
        for (int64_t j = 0; j < V; ++j) d[j] = f32_to_bf16(k * x[j]);
        d[t] = f32_to_bf16(k * x[t] + g);
      } else {
#pragma omp simd
        for (int64_t j = 0; j < V; ++j) x[j] *= k;
        x[t] += g;
      }
    }
    if (!backward) continue;

    const void* dl = dt == DType::bf16 ? static_cast<const void*>(dlb) : logits;
    if (contiguous) {
      gemm(dt, false, false, m, C, V, dl, V, W, C, dh + first * C, C, true);
    } else {
      float* dhg = ws.dh_gathered();
      gemm(dt, false, false, m, C, V, dl, V, W, C, dhg, C, false);
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < cnt; ++r)
        for (int64_t c = 0; c < C; ++c) dh[rows[r] * C + c] += dhg[r * C + c];
    }
    if (dW) gemm(dt, true, false, V, C, m, dl, V, hA, C, dW, C, true);
  }
  return loss;
}

}  // namespace

void output_head_logprobs(float* logp, const float* h, const void* W_gemm, DType dt, const int32_t* targets,
                          int64_t N, int64_t C, int64_t V, OutputHeadWorkspace& ws) {
  run_head(Pass::logprobs, logp, nullptr, nullptr, h, W_gemm, dt, targets, nullptr, N, C, V, ws);
}

void output_head_backward(float* dh, float* dW, const float* h, const void* W_gemm, DType dt,
                          const int32_t* targets, const float* g, int64_t N, int64_t C, int64_t V,
                          OutputHeadWorkspace& ws) {
  run_head(Pass::backward, nullptr, dh, dW, h, W_gemm, dt, targets, g, N, C, V, ws);
}

double output_head_cross_entropy(float* logp, float* dh, float* dW, const float* h, const void* W_gemm, DType dt,
                                 const int32_t* targets, const float* weight, int64_t N, int64_t C, int64_t V,
                                 OutputHeadWorkspace& ws) {
  return run_head(Pass::cross_entropy, logp, dh, dW, h, W_gemm, dt, targets, weight, N, C, V, ws);
}

}  // namespace shog::ops
