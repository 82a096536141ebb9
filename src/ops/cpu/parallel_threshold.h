// When an element-wise pass is worth an OpenMP parallel region.
#pragma once
#include <cstdint>

namespace shog::ops {

// Below this many elements an element-wise pass (a norm, RoPE, SwiGLU, an
// embedding copy) takes a few microseconds, about what waking the other
// threads and meeting them at the closing barrier costs, and a thread that
// was descheduled makes the barrier far dearer. A decode step of a few rows
// therefore runs these passes on the calling thread; training's passes over
// whole batches stay parallel.
inline constexpr int64_t kParallelMinElements = int64_t(1) << 15;

}  // namespace shog::ops
