#!/usr/bin/env python3
"""The PyTorch oracle: an independent Llama-style decoder in plain PyTorch,
used to check shoggoth's forward, gradients and AdamW steps.

Model (Hugging Face Llama semantics and tensor names):
  h = embed_tokens[inputs]
  with shog_smear: h[t] += smear * embed_tokens[inputs[t-1]] where t is not
  a sample's first position (positions[t] > 0)
  per layer: h += o_proj(attn(rope(q_proj(n)), rope(k_proj(n)), v_proj(n))),  n = rmsnorm(h)
             h += down_proj(silu(gate_proj(n)) * up_proj(n)),                  n = rmsnorm(h)
  logits = lm_head(rmsnorm(h))     (lm_head = embed_tokens when tie_word_embeddings)
RMSNorm: x * rsqrt(mean(x^2) + eps) * w. RoPE: HF rotate_half, inv_freq =
1 / theta^(arange(0, hd, 2) / hd) and angles in float32, as HF computes them.
Attention: causal, grouped-query (query head h reads kv head h // (H / KVH)),
scale 1/sqrt(hd).
Loss: -sum(weights * logp[target]); targets < 0 are ignored.

Run (Debian's python3 has torch; the pyenv `python3` on PATH does not):
  /usr/bin/python3 tests/oracle/llama_ref.py --config config.json \
      --weights model.safetensors --batch batch.safetensors --out out.safetensors \
      [--dtype f32|bf16] [--adamw-steps 5 --lr 1e-3 --beta1 0.9 --beta2 0.95 \
       --eps 1e-8 --weight-decay 0.1 --clip 1.0 [--optimizer muon --muon-lr 0.02 \
       --muon-momentum 0.95 --muon-weight-decay 0.01]]]
batch.safetensors: inputs I32 [B,T], targets I32 [B,T] (-1 ignored), weights F32 [B,T].
out.safetensors: logits F32 [B,T,V], loss F32 [1], grad.<name> for every
parameter (one embed_tokens grad when tied), and with --adamw-steps N:
step<N>.<name> (parameters after N AdamW steps on the same batch) and
loss_step<k> for k = 1..N (the loss of the forward that step k starts from;
loss_step1 == loss). With --optimizer muon the layers' 2-D weights take Muon
steps instead (written below from the Muon paper's reference algorithm,
Newton-Schulz in float32) and every other parameter AdamW's; the clip is one
global norm over all gradients, applied before either.

bf16 mode: torch.autocast('cpu', bfloat16) around the forward, f32 master
weights. Every linear layer's output is cast back to f32 and the attention
core (QK^T, softmax, PV) runs with autocast off, because that is shoggoth's
bf16 path: bf16 GEMM inputs with f32 results (ops/gemm.h), f32 attention
(ops/attention.h) and f32 elementwise ops. (Torch's CPU bf16 matmul still
rounds each linear's output to bf16 before our cast, so compare bf16 runs at
bf16 tolerances.)
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np  # noqa: E402


class Config:
    def __init__(self, d):
        self.vocab_size = int(d["vocab_size"])
        self.hidden_size = int(d["hidden_size"])
        self.intermediate_size = int(d["intermediate_size"])
        self.num_hidden_layers = int(d["num_hidden_layers"])
        self.num_attention_heads = int(d["num_attention_heads"])
        self.num_key_value_heads = int(d.get("num_key_value_heads", self.num_attention_heads))
        self.max_position_embeddings = int(d.get("max_position_embeddings", 2048))
        self.rope_theta = float(d.get("rope_theta", 10000.0))
        self.rms_norm_eps = float(d.get("rms_norm_eps", 1e-6))
        self.tie_word_embeddings = bool(d.get("tie_word_embeddings", False))
        self.smear = bool(d.get("shog_smear", False))
        if self.hidden_size % self.num_attention_heads:
            raise ValueError("hidden_size must be a multiple of num_attention_heads")
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")
        self.head_dim = self.hidden_size // self.num_attention_heads


def param_shapes(cfg):
    """HF name -> shape, in a fixed order (embedding, layers, norm, head)."""
    C, F_, V = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size
    hd, H, KV = cfg.head_dim, cfg.num_attention_heads, cfg.num_key_value_heads
    s = {"model.embed_tokens.weight": (V, C)}
    if cfg.smear:
        s["model.smear.weight"] = (C,)
    for i in range(cfg.num_hidden_layers):
        p = f"model.layers.{i}."
        s[p + "input_layernorm.weight"] = (C,)
        s[p + "self_attn.q_proj.weight"] = (H * hd, C)
        s[p + "self_attn.k_proj.weight"] = (KV * hd, C)
        s[p + "self_attn.v_proj.weight"] = (KV * hd, C)
        s[p + "self_attn.o_proj.weight"] = (C, H * hd)
        s[p + "post_attention_layernorm.weight"] = (C,)
        s[p + "mlp.gate_proj.weight"] = (F_, C)
        s[p + "mlp.up_proj.weight"] = (F_, C)
        s[p + "mlp.down_proj.weight"] = (C, F_)
    s["model.norm.weight"] = (C,)
    if not cfg.tie_word_embeddings:
        s["lm_head.weight"] = (V, C)
    return s


def load_params(cfg, tensors, dtype=torch.float32):
    params = {}
    for name, shape in param_shapes(cfg).items():
        if name not in tensors:
            raise ValueError(f"weights: missing tensor {name}")
        arr = tensors[name]
        if tuple(arr.shape) != shape:
            raise ValueError(f"weights: {name} has shape {tuple(arr.shape)}, config implies {shape}")
        params[name] = torch.tensor(np.asarray(arr, dtype=np.float32), dtype=dtype).requires_grad_(True)
    return params


def lin(x, w):
    # Under autocast F.linear returns bf16; bring it back to the master dtype.
    return F.linear(x, w).to(w.dtype)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_cos_sin(cfg, positions, dtype):
    """cos/sin [B, T, hd], computed in float32 exactly as HF does."""
    hd = cfg.head_dim
    inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    freqs = positions.float()[..., None] * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def causal_attention(q, k, v):
    """q [B,H,T,hd], k/v [B,KV,T,hd] -> [B,H,T,hd]. Plain math (torch 1.13 has
    no scaled_dot_product_attention)."""
    n_rep = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(n_rep, dim=1)  # query head h reads kv head h // n_rep
    v = v.repeat_interleave(n_rep, dim=1)
    T = q.shape[2]
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)
    scores = scores.masked_fill(mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def forward(cfg, params, inputs, positions=None, return_hidden=False):
    """inputs [B,T] int -> logits [B,T,V] in the parameters' dtype (and, with
    return_hidden, the final hidden states [B,T,C] after the norm)."""
    B, T = inputs.shape
    H, KV, hd = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    wte = params["model.embed_tokens.weight"]
    dtype = wte.dtype
    if positions is None:
        positions = torch.arange(T).expand(B, T)
    cos, sin = rope_cos_sin(cfg, positions, dtype)
    cos, sin = cos[:, :, None, :], sin[:, :, None, :]  # broadcast over heads
    h = F.embedding(inputs.long(), wte)
    if cfg.smear:
        prev = F.embedding(inputs.long(), wte).roll(1, dims=1)  # prev[:, t] = wte[inputs[:, t-1]]
        h = h + (positions > 0)[..., None].to(dtype) * params["model.smear.weight"] * prev
    for i in range(cfg.num_hidden_layers):
        p = lambda n: params[f"model.layers.{i}.{n}.weight"]  # noqa: E731
        n = rms_norm(h, p("input_layernorm"), cfg.rms_norm_eps)
        q = lin(n, p("self_attn.q_proj")).view(B, T, H, hd)
        k = lin(n, p("self_attn.k_proj")).view(B, T, KV, hd)
        v = lin(n, p("self_attn.v_proj")).view(B, T, KV, hd)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        with torch.autocast("cpu", enabled=False):
            a = causal_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        a = a.transpose(1, 2).reshape(B, T, H * hd)
        h = h + lin(a, p("self_attn.o_proj"))
        n = rms_norm(h, p("post_attention_layernorm"), cfg.rms_norm_eps)
        h = h + lin(F.silu(lin(n, p("mlp.gate_proj"))) * lin(n, p("mlp.up_proj")), p("mlp.down_proj"))
    h = rms_norm(h, params["model.norm.weight"], cfg.rms_norm_eps)
    head = wte if cfg.tie_word_embeddings else params["lm_head.weight"]
    return (lin(h, head), h) if return_hidden else lin(h, head)


def weighted_nll(logits, targets, weights):
    with torch.autocast("cpu", enabled=False):
        logp = torch.log_softmax(logits, dim=-1)
        targets = targets.long()
        keep = targets >= 0
        lp = logp.gather(-1, targets.clamp(min=0)[..., None]).squeeze(-1)
        return -(weights.to(logp.dtype) * keep * lp).sum()


def run_forward(cfg, params, batch, bf16):
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = forward(cfg, params, batch["inputs"])
    return logits, weighted_nll(logits, batch["targets"], batch["weights"])


def newton_schulz5(g, steps=5):
    a, b, c = (3.4445, -4.7750, 2.0315)
    x = g.float()
    if g.size(-2) > g.size(-1):
        x = x.mT
    x = x / (x.norm() + 1e-7)
    for _ in range(steps):
        A = x @ x.mT
        B = b * A + c * A @ A
        x = a * x + B @ x
    if g.size(-2) > g.size(-1):
        x = x.mT
    return x


def muon_step(p, momentum, lr, beta, weight_decay):
    """One Muon step (Nesterov), as the Muon reference writes it."""
    grad = p.grad.clone()
    momentum.lerp_(grad, 1 - beta)
    update = grad.lerp_(momentum, beta)
    update = newton_schulz5(update)
    update *= max(1, p.size(-2) / p.size(-1)) ** 0.5
    p.mul_(1 - lr * weight_decay)
    p.add_(update, alpha=-lr)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
    ap.add_argument("--adamw-steps", type=int, default=0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.95)
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0, help="global grad-norm clip; <= 0 disables")
    ap.add_argument("--optimizer", choices=["adamw", "muon"], default="adamw")
    ap.add_argument("--muon-lr", type=float, default=0.02)
    ap.add_argument("--muon-momentum", type=float, default=0.95)
    ap.add_argument("--muon-weight-decay", type=float, default=0.0)
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    bf16 = a.dtype == "bf16"

    with open(a.config) as f:
        cfg = Config(json.load(f))
    weights, _ = safetensors_np.load(a.weights)
    btens, _ = safetensors_np.load(a.batch)
    for k in ("inputs", "targets", "weights"):
        if k not in btens:
            raise ValueError(f"{a.batch}: missing tensor {k}")
    batch = {k: torch.from_numpy(np.ascontiguousarray(btens[k])) for k in ("inputs", "targets", "weights")}
    params = load_params(cfg, weights)
    names = list(params)

    logits, loss = run_forward(cfg, params, batch, bf16)
    loss.backward()
    out = {"logits": logits.detach().float().numpy(), "loss": np.array([loss.item()], dtype=np.float32)}
    for n in names:
        out["grad." + n] = params[n].grad.detach().float().numpy().copy()

    if a.adamw_steps > 0:
        muon_names = [n for n in names if a.optimizer == "muon" and params[n].dim() == 2
                      and n.startswith("model.layers.")]
        adam_names = [n for n in names if n not in muon_names]
        # Decay only the 2-D weight matrices (embeddings, projections, head),
        # never the norm gains.
        groups = [
            {"params": [params[n] for n in adam_names if params[n].dim() == 2], "weight_decay": a.weight_decay},
            {"params": [params[n] for n in adam_names if params[n].dim() != 2], "weight_decay": 0.0},
        ]
        opt = torch.optim.AdamW(groups, lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps, foreach=False)
        momenta = {n: torch.zeros_like(params[n]) for n in muon_names}
        for k in range(1, a.adamw_steps + 1):
            opt.zero_grad(set_to_none=False)
            for n in muon_names:
                params[n].grad = None
            _, loss_k = run_forward(cfg, params, batch, bf16)
            loss_k.backward()
            if a.clip > 0:
                torch.nn.utils.clip_grad_norm_([params[n] for n in names], a.clip)
            opt.step()
            with torch.no_grad():
                for n in muon_names:
                    muon_step(params[n], momenta[n], a.muon_lr, a.muon_momentum, a.muon_weight_decay)
            out[f"loss_step{k}"] = np.array([loss_k.item()], dtype=np.float32)
        for n in names:
            out[f"step{a.adamw_steps}.{n}"] = params[n].detach().float().numpy().copy()

    safetensors_np.save(a.out, out, metadata={"producer": "tests/oracle/llama_ref.py", "dtype": a.dtype})


if __name__ == "__main__":
    main()
