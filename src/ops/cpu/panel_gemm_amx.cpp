// panel_gemm on AMX tiles (Intel Sapphire Rapids and later).
//
// The panel layout (ops/panel_gemm.h) is already the one TDPBF16PS wants for
// its second operand: for pair j of columns of W, 48 output rows' two values
// side by side, 192 bytes. A tile of 16 pair-rows by 64 bytes, loaded with a
// stride of 192, is 16 outputs by 32 values of K in the VNNI order. So a
// panel is three such tiles wide, and one step over 32 values of K is
//
//   A  = x[m0 : m0+16, k : k+32]                 (tile 3, stride K values)
//   B0..B2 = the panel's pairs k/2 .. k/2+16     (tiles 4-6, stride 192 bytes)
//   C0..C2 += A . B0..B2                         (tiles 0-2: 16 rows x 16 f32)
//
// seven of the eight tile registers. Each thread takes a contiguous range of
// panels (as the AVX-512 kernel does) and, per panel, each block of up to 16
// rows of x in turn, so a decode batch of up to 16 rows reads each panel
// once from memory, and a prefill chunk reads it again from L2.
//
// A tile multiply does 16 x 16 x 32 products in one instruction: on the
// machine in docs/benchmarks.md a 16-row decode step's projections were
// compute-bound on VDPBF16PS, and with tiles they stream at memory speed.
#include "ops/cpu/panel_gemm_amx.h"

#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cpuid.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "ops/panel_gemm.h"

// Only the functions that touch tiles are compiled for AMX (GCC and clang
// both take the attribute; clang refuses a file-wide `#pragma GCC target`),
// so the rest of the file, OpenMP's outlined loop body included, runs on any
// CPU, and none of them is called unless amx_usable().
#define SHOG_AMX_TARGET __attribute__((target("amx-tile,amx-bf16")))

namespace shog::ops::cpu {
namespace {

constexpr int kTileRows = 16;                                       // rows of x per block; outputs per tile column group
constexpr int64_t kPanelRowBytes = kPanelWidth * 2 * sizeof(bf16);  // one pair-row of a panel: 192

// The 64-byte operand of LDTILECFG (palette 1).
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64);

// Tiles 0-2 (C) and 3 (A) have `mb` rows; 4-6 (B) are 16 pair-rows. All are
// 64 bytes wide.
SHOG_AMX_TARGET void configure(int mb) {
  TileConfig c;
  for (int t = 0; t < 7; ++t) {
    c.colsb[t] = 64;
    c.rows[t] = uint8_t(t < 4 ? mb : kTileRows);
  }
  _tile_loadconfig(&c);
}

// One block of mb <= 16 rows of x against one panel: y[m0.., 48 columns].
// The C tiles are loaded from / stored to `c` with row stride `ldc` floats.
SHOG_AMX_TARGET void block(const bf16* x, int64_t K, const bf16* panel, float* c, int64_t ldc, bool accumulate) {
  const int64_t ldc_bytes = ldc * int64_t(sizeof(float));
  if (accumulate) {
    _tile_loadd(0, c, ldc_bytes);
    _tile_loadd(1, c + 16, ldc_bytes);
    _tile_loadd(2, c + 32, ldc_bytes);
  } else {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
  }
  const int64_t ldx_bytes = K * int64_t(sizeof(bf16));
  for (int64_t k = 0; k < K; k += 32) {
    const bf16* b = panel + (k / 2) * kPanelWidth * 2;  // pair-row k/2
    _tile_loadd(3, x + k, ldx_bytes);
    _tile_loadd(4, b, kPanelRowBytes);
    _tile_loadd(5, b + 32, kPanelRowBytes);
    _tile_loadd(6, b + 64, kPanelRowBytes);
    _tile_dpbf16ps(0, 3, 4);
    _tile_dpbf16ps(1, 3, 5);
    _tile_dpbf16ps(2, 3, 6);
  }
  _tile_stored(0, c, ldc_bytes);
  _tile_stored(1, c + 16, ldc_bytes);
  _tile_stored(2, c + 32, ldc_bytes);
}

// Gives the tile state back: a thread holding it saves and restores 8 KB
// more at every context switch.
SHOG_AMX_TARGET void release() { _tile_release(); }

bool detect() {
  if (const char* e = std::getenv("SHOG_AMX"); e && std::string_view(e) == "0") return false;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const bool tile = d & (1u << 24), bf16_ops = d & (1u << 22);
  if (!tile || !bf16_ops) return false;
  // Linux keeps the 8 KB of tile data out of a thread's saved state until the
  // process asks for it (arch_prctl ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA);
  // without that, the first tile instruction is SIGILL. It covers every
  // thread of the process.
  constexpr int kReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) == 0;
}

}  // namespace

bool amx_usable() {
  static const bool usable = detect();
  return usable;
}

void panel_gemm_amx(int64_t M, int64_t N, int64_t K, const bf16* x, const bf16* Wp, float* y, bool accumulate) {
  const int64_t P = (N + kPanelWidth - 1) / kPanelWidth, panel_elems = (K / 2) * kPanelWidth * 2;
#pragma omp parallel if (M * N * K >= (int64_t(1) << 16))
  {
    int configured = 0;  // rows the C and A tiles are configured for (0: not yet)
    alignas(64) float part[kTileRows * kPanelWidth];  // the last panel's C when it is cut short
#pragma omp for schedule(static)
    for (int64_t p = 0; p < P; ++p) {
      const bf16* panel = Wp + p * panel_elems;
      const int64_t valid = std::min(kPanelWidth, N - p * kPanelWidth);
      for (int64_t m0 = 0; m0 < M; m0 += kTileRows) {
        const int mb = int(std::min<int64_t>(kTileRows, M - m0));
        if (mb != configured) configure(configured = mb);
        float* yb = y + m0 * N + p * kPanelWidth;
        if (valid == kPanelWidth) {
          block(x + m0 * K, K, panel, yb, N, accumulate);
          continue;
        }
        // Columns past N are not y's: go through a whole-width copy.
        if (accumulate)
          for (int r = 0; r < mb; ++r) std::memcpy(part + r * kPanelWidth, yb + r * N, size_t(valid) * sizeof(float));
        block(x + m0 * K, K, panel, part, kPanelWidth, accumulate);
        for (int r = 0; r < mb; ++r) std::memcpy(yb + r * N, part + r * kPanelWidth, size_t(valid) * sizeof(float));
      }
    }
    if (configured) release();
  }
}

}  // namespace shog::ops::cpu
