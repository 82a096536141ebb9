#!/usr/bin/env python3
"""PyTorch peer for shoggoth's training-step benchmark: one full step
(forward, backward, AdamW) of the same Llama-style architecture as
tests/oracle/llama_ref.py, random init, at "d12": 12 layers, hidden 768,
12 heads, 12 kv heads, intermediate 2048, vocab 50304, untied lm_head,
batch 4 x seq 256, in f32 and in bf16 autocast (f32 master weights).

Run it like this for a fair comparison (jemalloc as PyTorch's allocator, no
OpenBLAS core override, AVX-512 kernels in ATen, 2 threads like shoggoth):
  LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 env -u OPENBLAS_CORETYPE \
      ATEN_CPU_CAPABILITY=avx512 /usr/bin/python3 bench/pytorch_step.py [--warmup 2 --steps 3]
Prints one JSON line per dtype: tokens/s and ms/step (mean of the timed steps,
and the fastest). Nothing else should be running on the machine.

BLAS: torch's f32 matmul goes through libblas.so.3. Debian resolves that to
whatever `update-alternatives` points at; if that is the netlib reference
BLAS (Debian 12's default without OpenBLAS) f32 GEMMs run at ~0.5 GFLOP/s and
the f32 figure is meaningless (bf16 goes through oneDNN and is unaffected).
The script measures f32 GEMM speed first and warns on stderr.
bench/setup_peers.sh installs Debian's libopenblas0-pthread, which becomes
the libblas.so.3 alternative, so PyTorch's f32 runs at its best.

torch 1.13 has no F.scaled_dot_product_attention, so attention is the plain
causal form (materialised T x T scores, masked softmax); with T = 256 that is
a small part of the step next to the GEMMs and the 50k-wide head.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn.functional as F


def make_params(L, C, H, KV, FF, V, seed=0):
    g = torch.Generator().manual_seed(seed)
    hd = C // H

    def w(*shape):
        return (torch.randn(*shape, generator=g) * 0.02).requires_grad_(True)

    p = {"embed": w(V, C), "norm": torch.ones(C, requires_grad=True), "head": w(V, C), "layers": []}
    for _ in range(L):
        p["layers"].append({
            "ln1": torch.ones(C, requires_grad=True), "q": w(H * hd, C), "k": w(KV * hd, C), "v": w(KV * hd, C),
            "o": w(C, H * hd), "ln2": torch.ones(C, requires_grad=True), "gate": w(FF, C), "up": w(FF, C),
            "down": w(C, FF),
        })
    return p


def all_params(p):
    out = [p["embed"], p["norm"], p["head"]]
    for layer in p["layers"]:
        out += list(layer.values())
    return out


def rms_norm(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def step_loss(p, inputs, targets, H, KV, cos, sin, mask):
    B, T = inputs.shape
    C = p["embed"].shape[1]
    hd = C // H
    h = F.embedding(inputs, p["embed"])
    for l in p["layers"]:
        n = rms_norm(h, l["ln1"])
        q = F.linear(n, l["q"]).view(B, T, H, hd).transpose(1, 2)
        k = F.linear(n, l["k"]).view(B, T, KV, hd).transpose(1, 2)
        v = F.linear(n, l["v"]).view(B, T, KV, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if KV != H:
            k, v = k.repeat_interleave(H // KV, 1), v.repeat_interleave(H // KV, 1)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        a = torch.softmax(s.masked_fill(mask, float("-inf")).float(), dim=-1).to(q.dtype) @ v
        h = h + F.linear(a.transpose(1, 2).reshape(B, T, C), l["o"])
        n = rms_norm(h, l["ln2"])
        h = h + F.linear(F.silu(F.linear(n, l["gate"])) * F.linear(n, l["up"]), l["down"])
    logits = F.linear(rms_norm(h, p["norm"]), p["head"])
    return F.cross_entropy(logits.float().view(-1, logits.shape[-1]), targets.view(-1))


def bench(dtype, a):
    torch.manual_seed(0)
    L, C, H, KV, FF, V, B, T = 12, 768, 12, 12, 2048, 50304, 4, 256
    p = make_params(L, C, H, KV, FF, V)
    params = all_params(p)
    decay = [t for t in params if t.dim() == 2]
    no_decay = [t for t in params if t.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=3e-4, betas=(0.9, 0.95), eps=1e-8, foreach=False)
    inputs = torch.randint(0, V, (B, T))
    targets = torch.randint(0, V, (B, T))
    hd = C // H
    inv_freq = 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd))
    emb = torch.cat([torch.outer(torch.arange(T).float(), inv_freq)] * 2, dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)
    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=(dtype == "bf16")):
            loss = step_loss(p, inputs, targets, H, KV, cos, sin, mask)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        dt = time.perf_counter() - t0
        if i >= a.warmup:
            times.append(dt)
    mean = sum(times) / len(times)
    return {"impl": "pytorch", "torch": torch.__version__, "dtype": dtype, "threads": torch.get_num_threads(),
            "config": "d12", "batch": B, "seq": T, "params": sum(t.numel() for t in params),
            "steps": len(times), "ms_per_step": round(mean * 1e3, 1), "ms_per_step_min": round(min(times) * 1e3, 1),
            "tokens_per_s": round(B * T / mean, 1), "loss": round(loss.item(), 4),
            "f32_blas_gflops_probe": round(a.blas_gflops, 1)}


def blas_gflops():
    """f32 GEMM throughput of the BLAS torch is using (see the docstring)."""
    a, w = torch.randn(512, 768), torch.randn(768, 768)
    F.linear(a, w)
    t0 = time.perf_counter()
    F.linear(a, w)
    return 2 * 512 * 768 * 768 / (time.perf_counter() - t0) / 1e9


def main():
    ap = argparse.ArgumentParser(description="PyTorch d12 training-step benchmark")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--dtypes", default="f32,bf16")
    a = ap.parse_args()
    torch.set_num_threads(2)
    gf = blas_gflops()
    if gf < 5:
        print(f"warning: f32 GEMM runs at {gf:.1f} GFLOP/s: torch is on the reference BLAS; "
              "f32 timings are meaningless (see the docstring for OpenBLAS)", file=sys.stderr, flush=True)
    a.blas_gflops = gf
    for dt in a.dtypes.split(","):
        print(json.dumps(bench(dt, a)), flush=True)


if __name__ == "__main__":
    main()
