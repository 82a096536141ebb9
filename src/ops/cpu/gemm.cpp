// oneDNN matmul behind ops::gemm.
//
// Transposes are not copies: a transposed operand is the same bytes described
// with swapped strides, and oneDNN picks a kernel that reads them in place.
// Creating a primitive costs far more than running a small one (it JIT-compiles),
// so each distinct (dtype, transposes, shape, leading dims, accumulate) gets
// one primitive, created on first use and kept for the life of the process.
#include "ops/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/error.h"

namespace shog::ops {
namespace {

using dt = dnnl::memory::data_type;

struct GemmKey {
  DType dtype;
  bool trans_a, trans_b, accumulate;
  int64_t M, N, K, lda, ldb, ldc;
  auto tie() const { return std::tie(dtype, trans_a, trans_b, accumulate, M, N, K, lda, ldb, ldc); }
  bool operator<(const GemmKey& o) const { return tie() < o.tie(); }
};

struct GemmPlan {
  dnnl::matmul prim;
  dnnl::memory::desc a_md, b_md, c_md;
  size_t scratch_bytes = 0;
};

dnnl::engine& cpu_engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

// A CPU stream is a thin handle, but the API does not promise that one stream
// may be used from several threads at once; a stream per calling thread keeps
// concurrent gemm callers (e.g. a data-parallel worker) safe for free.
dnnl::stream& cpu_stream() {
  thread_local dnnl::stream s(cpu_engine());
  return s;
}

// Scratchpad in user mode: oneDNN's library-managed scratchpad may be shared
// between primitives, so two threads running gemms at once could trample it.
// A per-thread buffer that only grows keeps the steady state allocation-free.
struct ScratchBuffer {
  void* ptr = nullptr;
  size_t bytes = 0;
  ~ScratchBuffer() { std::free(ptr); }
  void* get(size_t need) {
    if (need > bytes) {
      std::free(ptr);
      bytes = (need + 4095) & ~size_t(4095);
      ptr = std::aligned_alloc(64, bytes);
      SHOG_CHECK(ptr != nullptr, ErrorKind::internal, "gemm", "cannot allocate {} bytes of scratch", bytes);
    }
    return ptr;
  }
};

struct PlanCache {
  std::mutex mu;
  std::map<GemmKey, std::shared_ptr<const GemmPlan>> plans;
};

PlanCache& plan_cache() {
  static PlanCache c;
  return c;
}

std::shared_ptr<const GemmPlan> make_plan(const GemmKey& k) {
  const dt in_t = k.dtype == DType::bf16 ? dt::bf16 : dt::f32;
  // Row-major [rows, cols] with leading dimension ld has strides {ld, 1}; its
  // transpose, viewed as [cols, rows], has strides {1, ld}.
  dnnl::memory::desc a_md({k.M, k.K}, in_t, k.trans_a ? dnnl::memory::dims{1, k.lda} : dnnl::memory::dims{k.lda, 1});
  dnnl::memory::desc b_md({k.K, k.N}, in_t, k.trans_b ? dnnl::memory::dims{1, k.ldb} : dnnl::memory::dims{k.ldb, 1});
  dnnl::memory::desc c_md({k.M, k.N}, dt::f32, dnnl::memory::dims{k.ldc, 1});

  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (k.accumulate) {
    dnnl::post_ops po;
    po.append_sum(1.0f);
    attr.set_post_ops(po);
  }
  dnnl::matmul::desc d(a_md, b_md, c_md);
  dnnl::matmul::primitive_desc pd(d, attr, cpu_engine());
  auto plan = std::make_shared<GemmPlan>();
  plan->prim = dnnl::matmul(pd);
  plan->a_md = a_md;
  plan->b_md = b_md;
  plan->c_md = c_md;
  plan->scratch_bytes = pd.scratchpad_desc().get_size();
  return plan;
}

std::shared_ptr<const GemmPlan> get_plan(const GemmKey& k) {
  PlanCache& c = plan_cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.plans.find(k);
    if (it != c.plans.end()) return it->second;
  }
  // Built outside the lock: JIT compilation takes milliseconds and other
  // threads' lookups should not wait on it. If two threads race on the same
  // key the first insert wins and the other plan is dropped.
  auto plan = make_plan(k);
  std::lock_guard<std::mutex> lock(c.mu);
  return c.plans.emplace(k, std::move(plan)).first->second;
}

}  // namespace

void gemm(DType dtype, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const void* A, int64_t lda,
          const void* B, int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  SHOG_CHECK(dtype == DType::f32 || dtype == DType::bf16, ErrorKind::unsupported, "gemm",
             "dtype {} not supported (f32 or bf16)", dtype_name(dtype));
  SHOG_CHECK(M >= 0 && N >= 0 && K >= 0, ErrorKind::invalid_argument, "gemm", "negative shape M={} N={} K={}", M,
             N, K);
  SHOG_CHECK(lda >= std::max<int64_t>(1, trans_a ? M : K), ErrorKind::invalid_argument, "gemm",
             "lda={} too small for {} A[{}x{}]", lda, trans_a ? "transposed" : "plain", M, K);
  SHOG_CHECK(ldb >= std::max<int64_t>(1, trans_b ? K : N), ErrorKind::invalid_argument, "gemm",
             "ldb={} too small for {} B[{}x{}]", ldb, trans_b ? "transposed" : "plain", K, N);
  SHOG_CHECK(ldc >= std::max<int64_t>(1, N), ErrorKind::invalid_argument, "gemm", "ldc={} < N={}", ldc, N);
  if (M == 0 || N == 0) return;
  if (K == 0) {
    // An empty sum: oneDNN rejects zero-sized reductions, and the answer is trivial.
    if (!accumulate)
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = 0.0f;
    return;
  }

  auto plan = get_plan({dtype, trans_a, trans_b, accumulate, M, N, K, lda, ldb, ldc});
  dnnl::engine& eng = cpu_engine();
  dnnl::memory a(plan->a_md, eng, const_cast<void*>(A));
  dnnl::memory b(plan->b_md, eng, const_cast<void*>(B));
  dnnl::memory c(plan->c_md, eng, C);
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}};
  if (plan->scratch_bytes > 0) {
    thread_local ScratchBuffer scratch;
    dnnl::memory::desc s_md({int64_t(plan->scratch_bytes)}, dt::u8, dnnl::memory::dims{1});
    args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(s_md, eng, scratch.get(plan->scratch_bytes)));
  }
  plan->prim.execute(cpu_stream(), args);
  cpu_stream().wait();
}

int64_t gemm_cache_size() {
  PlanCache& c = plan_cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return int64_t(c.plans.size());
}

}  // namespace shog::ops
