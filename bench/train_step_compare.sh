#!/usr/bin/env bash
# Runs the d12 training-step benchmark for shoggoth and for PyTorch (the fair
# configuration: jemalloc, OpenBLAS for f32, AVX-512 ATen kernels, 2 threads)
# one after the other on the same machine, and prints a Markdown table.
#   bench/train_step_compare.sh [build dir] [timed steps]
# Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
STEPS=${2:-5}
bash bench/setup_peers.sh
out=$(mktemp)
"$BUILD/train_step_bench" --steps "$STEPS" --warmup 2 | tee "$out"
LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 env -u OPENBLAS_CORETYPE ATEN_CPU_CAPABILITY=avx512 \
  OMP_NUM_THREADS=2 /usr/bin/python3 bench/pytorch_step.py --warmup 2 --steps "$STEPS" | tee -a "$out"
/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
head = rows[0]
ours = {r["dtype"]: r for r in rows if r.get("impl") == "shoggoth"}
peer = {r["dtype"]: r for r in rows if r.get("impl", "").startswith("pytorch")}
flops = head["flops_per_step"]
print(f"\nd12 ({head['params']/1e6:.1f}M parameters), batch {head['batch']} x seq {head['seq']}, {head['threads']} threads\n")
print("| dtype | shoggoth tokens/s | shoggoth ms/step | shoggoth MFU | PyTorch tokens/s | PyTorch ms/step | PyTorch MFU | speed-up | GEMM peak (GFLOP/s) |")
print("|---|---|---|---|---|---|---|---|---|")
for dt in ("f32", "bf16"):
    o, p = ours.get(dt), peer.get(dt)
    if not o: continue
    peak = o["gemm_peak_gflops"] * 1e9
    pt = p["tokens_per_s"] if p else float("nan")
    pms = p["ms_per_step"] if p else float("nan")
    pmfu = flops / (pms / 1e3) / peak if p else float("nan")
    print(f"| {dt} | {o['tokens_per_s']:.0f} | {o['ms_per_step']:.0f} | {100*o['mfu']:.1f}% | {pt:.0f} | {pms:.0f} | {100*pmfu:.1f}% | {o['tokens_per_s']/pt:.2f}x | {o['gemm_peak_gflops']:.0f} |")
PY
