// The AMX kernel of ops::panel_gemm_bf16 (ops/panel_gemm.h), internal to
// ops/cpu: panel_gemm.cpp dispatches to it.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace shog::ops::cpu {

// Whether this CPU has AMX-BF16 and the kernel lets this process use the
// tile registers (Linux asks each process to request them, once), and the
// environment does not turn it off with SHOG_AMX=0. Decided once.
bool amx_usable();

// The kernel reads K in steps of 32 (one tile of x is 16 rows by 32 values).
inline bool amx_fits(int64_t K) { return K > 0 && K % 32 == 0; }

// y[M, N] (+)= x[M, K] W^T on panel-packed W, as ops::panel_gemm_bf16.
// Requires amx_usable() and amx_fits(K).
void panel_gemm_amx(int64_t M, int64_t N, int64_t K, const bf16* x, const bf16* Wp, float* y, bool accumulate);

}  // namespace shog::ops::cpu
