#!/usr/bin/env python3
"""Self-test of the oracle, so that a bug in it cannot masquerade as a bug in
shoggoth. Checks, on tiny configs in float64:
  1. gradients of the whole model (all parameters, GQA, tied and untied)
     against torch.autograd.gradcheck's finite differences;
  2. the vectorised causal GQA attention against a per-query loop written
     straight from the definition (gradcheck cannot see a wrong mask);
  3. RoPE's rotate_half form against an explicit rotation of (x_i, x_{i+hd/2});
  4. the CLI end to end: files in, every expected tensor out, and for a
     learning rate of 0 the AdamW steps leave the parameters alone, while the
     loss goes down over steps at a normal learning rate.

Run: /usr/bin/python3 tests/oracle/selftest.py      (exit status 0 = pass)
"""
import json
import math
import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_ref  # noqa: E402
import safetensors_np  # noqa: E402

TINY = dict(vocab_size=11, hidden_size=8, intermediate_size=12, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=16, rope_theta=10000.0, rms_norm_eps=1e-5,
            tie_word_embeddings=False)


def random_weights(cfg, seed):
    g = np.random.default_rng(seed)
    w = {}
    for name, shape in llama_ref.param_shapes(cfg).items():
        if name.endswith("norm.weight"):
            w[name] = (1.0 + 0.1 * g.standard_normal(shape)).astype(np.float32)
        else:
            w[name] = (0.3 * g.standard_normal(shape)).astype(np.float32)
    return w


def random_batch(cfg, B, T, seed):
    g = np.random.default_rng(seed)
    inputs = g.integers(0, cfg.vocab_size, (B, T)).astype(np.int32)
    targets = g.integers(0, cfg.vocab_size, (B, T)).astype(np.int32)
    targets[0, 1] = -1
    weights = np.full((B, T), 1.0 / (B * T - 1), np.float32)
    return {"inputs": inputs, "targets": targets, "weights": weights}


def check_gradcheck(tied):
    cfg = llama_ref.Config({**TINY, "tie_word_embeddings": tied})
    params = llama_ref.load_params(cfg, random_weights(cfg, 1), dtype=torch.float64)
    names = list(params)
    b = {k: torch.from_numpy(v) for k, v in random_batch(cfg, 2, 5, 2).items()}

    def f(*ps):
        logits = llama_ref.forward(cfg, dict(zip(names, ps)), b["inputs"])
        return llama_ref.weighted_nll(logits, b["targets"], b["weights"])

    ok = torch.autograd.gradcheck(f, tuple(params[n] for n in names), eps=1e-6, atol=1e-6, rtol=1e-4)
    assert ok, f"gradcheck failed (tied={tied})"
    print(f"ok  gradcheck, {len(names)} parameters, tied={tied}")


def check_attention():
    g = torch.Generator().manual_seed(3)
    B, H, KV, T, hd = 2, 6, 2, 7, 4
    q = torch.randn(B, H, T, hd, generator=g, dtype=torch.float64)
    k = torch.randn(B, KV, T, hd, generator=g, dtype=torch.float64)
    v = torch.randn(B, KV, T, hd, generator=g, dtype=torch.float64)
    got = llama_ref.causal_attention(q, k, v)
    want = torch.zeros_like(got)
    for b in range(B):
        for h in range(H):
            kvh = h // (H // KV)
            for t in range(T):
                s = [float(q[b, h, t] @ k[b, kvh, u]) / math.sqrt(hd) for u in range(t + 1)]
                m = max(s)
                e = [math.exp(x - m) for x in s]
                z = sum(e)
                want[b, h, t] = sum(e[u] / z * v[b, kvh, u] for u in range(t + 1))
    err = (got - want).abs().max().item()
    assert err < 1e-12, f"attention differs from the definition by {err}"
    print(f"ok  causal GQA attention vs definition (max err {err:.1e})")


def check_rope():
    cfg = llama_ref.Config({**TINY, "hidden_size": 16, "num_attention_heads": 2})
    hd = cfg.head_dim
    T = 9
    x = torch.randn(1, T, 1, hd, dtype=torch.float64)
    cos, sin = llama_ref.rope_cos_sin(cfg, torch.arange(T)[None], torch.float64)
    got = x * cos[:, :, None] + llama_ref.rotate_half(x) * sin[:, :, None]
    want = x.clone()
    for t in range(T):
        for i in range(hd // 2):
            ang = t * cfg.rope_theta ** (-2.0 * i / hd)
            a, b = x[0, t, 0, i].item(), x[0, t, 0, i + hd // 2].item()
            want[0, t, 0, i] = a * math.cos(ang) - b * math.sin(ang)
            want[0, t, 0, i + hd // 2] = b * math.cos(ang) + a * math.sin(ang)
    err = (got - want).abs().max().item()
    assert err < 1e-5, f"rope differs from explicit rotation by {err}"  # float32 angles, as HF
    print(f"ok  rope rotate_half vs explicit rotation (max err {err:.1e})")


def check_cli(tied, dtype):
    cfg_d = {**TINY, "tie_word_embeddings": tied}
    cfg = llama_ref.Config(cfg_d)
    with tempfile.TemporaryDirectory() as d:
        p = lambda n: os.path.join(d, n)  # noqa: E731
        with open(p("config.json"), "w") as f:
            json.dump(cfg_d, f)
        w = random_weights(cfg, 4)
        safetensors_np.save(p("w.safetensors"), w, dtypes={n: "BF16" for n in w if "mlp" in n})
        safetensors_np.save(p("b.safetensors"), random_batch(cfg, 2, 6, 5))
        base = ["--config", p("config.json"), "--weights", p("w.safetensors"), "--batch", p("b.safetensors"),
                "--dtype", dtype]
        llama_ref.main(base + ["--out", p("o0.safetensors"), "--adamw-steps", "2", "--lr", "0",
                               "--weight-decay", "0.5"])
        o0, _ = safetensors_np.load(p("o0.safetensors"))
        llama_ref.main(base + ["--out", p("o1.safetensors"), "--adamw-steps", "8", "--lr", "1e-2"])
        o1, _ = safetensors_np.load(p("o1.safetensors"))
    w_bf = {n: (safetensors_np.bf16_bits_to_f32(safetensors_np.f32_to_bf16_bits(a)) if "mlp" in n else a)
            for n, a in w.items()}
    names = list(llama_ref.param_shapes(cfg))
    assert o0["logits"].shape == (2, 6, cfg.vocab_size)
    assert ("grad.lm_head.weight" in o0) == (not tied)
    for n in names:
        assert o0["grad." + n].shape == w[n].shape, n
        assert np.array_equal(o0["step2." + n], w_bf[n]), f"lr=0 moved {n}"
    assert o0["loss"][0] == o0["loss_step1"][0] == o0["loss_step2"][0]
    losses = [o1[f"loss_step{k}"][0] for k in range(1, 9)]
    assert losses[-1] < losses[0], f"loss did not go down: {losses}"
    print(f"ok  CLI end to end, tied={tied}, dtype={dtype}, loss {losses[0]:.4f} -> {losses[-1]:.4f}")


if __name__ == "__main__":
    torch.set_num_threads(2)
    check_attention()
    check_rope()
    check_gradcheck(tied=False)
    check_gradcheck(tied=True)
    for tied in (False, True):
        for dtype in ("f32", "bf16"):
            check_cli(tied, dtype)
    print("all oracle self-tests passed")
