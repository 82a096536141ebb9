// Measures what the GEMM backend actually delivers on this machine: the
// denominator of every MFU figure shoggoth prints. Square products big
// enough to be compute-bound, timed after a warm-up.
#pragma once
#include "core/dtype.h"

namespace shog::ops {

// FLOP/s of a size x size x size GEMM in dtype dt (f32 or bf16 inputs, f32
// output), best of the repetitions that fit in about `seconds`.
double measure_gemm_peak_flops(DType dt, double seconds = 0.5, int size = 1024);

}  // namespace shog::ops
