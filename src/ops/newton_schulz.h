// The orthogonal factor of a matrix by a quintic Newton-Schulz iteration, the
// step at the heart of Muon (Jordan et al. 2024, "Muon: An optimizer for
// hidden layers in neural networks"). For G = U S V^T it returns roughly
// U V^T: every singular value pushed toward 1, the singular vectors kept.
//
//   X = G / (|G|_F + 1e-7)            (transposed first when rows > cols, so
//   repeat `steps` times:              that X X^T is the smaller Gram matrix)
//     A = X X^T
//     B = b A + c A A
//     X = a X + B X
//
// with (a, b, c) = (3.4445, -4.7750, 2.0315), the coefficients Muon's
// reference uses. They trade exactness for speed: after five steps the
// singular values lie roughly in [0.7, 1.2] rather than at 1, which Muon's
// authors found trains as well as an exact orthogonalisation and costs five
// rounds of three GEMMs.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace shog::ops {

constexpr float kNewtonSchulzA = 3.4445f, kNewtonSchulzB = -4.7750f, kNewtonSchulzC = 2.0315f;

// out[rows, cols] (row-major) := the iteration above applied to g[rows,
// cols]. dt picks the GEMMs' inputs: f32, or bf16 (each operand rounded to
// bf16, products accumulated in f32, as Muon's reference runs it); the
// elementwise parts are f32 either way. out may equal g. Allocates its
// workspace (a few rows x cols floats): it runs once per matrix per
// optimizer step, not in a per-token loop.
void newton_schulz_orthogonalize(const float* g, int64_t rows, int64_t cols, int steps, DType dt, float* out);

}  // namespace shog::ops
