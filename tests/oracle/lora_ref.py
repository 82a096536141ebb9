#!/usr/bin/env python3
"""LoRA and linear-head oracle: the PyTorch model of llama_ref.py with a PEFT
LoRA adapter read from its own files, and a linear head on the final hidden
states, differentiated by autograd.

Each adapted base matrix is used as W + (lora_alpha / r) * B @ A (PEFT's
y = W x + s B A x, without dropout), with W constant and A, B leaves, so
autograd gives dL/dA and dL/dB; shoggoth computes the same thing as a
separate low-rank path, in another order.

  loss = -sum(weights * logp[target])  +  sum(head_dout * head_out)
  head_out = hidden[head_rows] @ score.weight^T + score.bias

Run (Debian's python3 has torch):
  /usr/bin/python3 tests/oracle/lora_ref.py --model DIR --adapter DIR \
      --batch batch.safetensors [--head head.safetensors] --out out.safetensors
DIR (model): config.json + model.safetensors. DIR (adapter):
adapter_config.json + adapter_model.safetensors in PEFT's format.
batch.safetensors: inputs I32 [B,T], targets I32 [B,T], weights F32 [B,T],
and with --head: head_rows I32 [R] (rows of the [B*T, C] hidden states),
head_dout F32 [R, n_out].
out.safetensors: logits F32 [B,T,V], loss F32 [1] (the cross-entropy part),
grad.<adapter tensor name> for every adapter tensor; with --head also
head_out F32 [R, n_out], grad.score.weight, grad.score.bias and
hidden_grad_head F32 [B*T, C] (d sum(head_dout * head_out) / d hidden).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_ref  # noqa: E402
import safetensors_np  # noqa: E402

PREFIX = "base_model.model."


def load_adapter(adir):
    """Returns (scale, {base weight name: (A, B)}) with A, B requiring grad,
    and {base weight name: (A tensor name, B tensor name)}."""
    with open(os.path.join(adir, "adapter_config.json")) as f:
        cfg = json.load(f)
    if cfg.get("peft_type") != "LORA" or cfg.get("use_rslora") or cfg.get("use_dora"):
        raise ValueError(f"{adir}: not a plain LoRA adapter")
    scale = float(cfg["lora_alpha"]) / float(cfg["r"])
    tensors, _ = safetensors_np.load(os.path.join(adir, "adapter_model.safetensors"))
    pairs, names = {}, {}
    for name in tensors:
        for ab in ("A", "B"):
            suffix = f".lora_{ab}.weight"
            if name.startswith(PREFIX) and name.endswith(suffix):
                base = name[len(PREFIX):-len(suffix)] + ".weight"
                break
        else:
            raise ValueError(f"{adir}: unexpected tensor {name}")
        t = torch.tensor(np.asarray(tensors[name], dtype=np.float32)).requires_grad_(True)
        pairs.setdefault(base, {})[ab] = t
        names.setdefault(base, {})[ab] = name
    for base, p in pairs.items():
        if set(p) != {"A", "B"}:
            raise ValueError(f"{adir}: {base} lacks lora_A or lora_B")
        if p["A"].shape[0] != int(cfg["r"]) or p["B"].shape[1] != int(cfg["r"]):
            raise ValueError(f"{adir}: {base} rank differs from r = {cfg['r']}")
    return scale, pairs, names


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--head")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    torch.set_num_threads(2)

    with open(os.path.join(a.model, "config.json")) as f:
        cfg = llama_ref.Config(json.load(f))
    weights, _ = safetensors_np.load(os.path.join(a.model, "model.safetensors"))
    base = {k: v.detach().requires_grad_(False) for k, v in llama_ref.load_params(cfg, weights).items()}
    scale, pairs, names = load_adapter(a.adapter)
    params = dict(base)
    for w, p in pairs.items():
        if w not in base or tuple(base[w].shape) != (p["B"].shape[0], p["A"].shape[1]):
            raise ValueError(f"adapter: {w} does not match the base model")
        params[w] = base[w] + scale * (p["B"] @ p["A"])

    bt, _ = safetensors_np.load(a.batch)
    inputs = torch.from_numpy(np.ascontiguousarray(bt["inputs"]))
    targets = torch.from_numpy(np.ascontiguousarray(bt["targets"]))
    bweights = torch.from_numpy(np.ascontiguousarray(bt["weights"]))
    logits, hidden = llama_ref.forward(cfg, params, inputs, return_hidden=True)
    loss = llama_ref.weighted_nll(logits, targets, bweights)
    out = {"logits": logits.detach().numpy(), "loss": np.array([loss.item()], dtype=np.float32)}
    total = loss

    if a.head:
        ht, _ = safetensors_np.load(a.head)
        W = torch.tensor(ht["score.weight"]).requires_grad_(True)
        b = torch.tensor(ht["score.bias"]).requires_grad_(True)
        rows = torch.from_numpy(np.ascontiguousarray(bt["head_rows"])).long()
        dout = torch.from_numpy(np.ascontiguousarray(bt["head_dout"]))
        flat = hidden.reshape(-1, hidden.shape[-1])
        head_out = flat[rows] @ W.T + b
        head_loss = (head_out * dout).sum()
        (hg,) = torch.autograd.grad(head_loss, [flat], retain_graph=True)
        out["head_out"] = head_out.detach().numpy()
        out["hidden_grad_head"] = hg.numpy()
        total = total + head_loss

    total.backward()
    for w, p in pairs.items():
        for ab in ("A", "B"):
            out["grad." + names[w][ab]] = p[ab].grad.numpy().copy()
    if a.head:
        out["grad.score.weight"] = W.grad.numpy().copy()
        out["grad.score.bias"] = b.grad.numpy().copy()
    safetensors_np.save(a.out, out, metadata={"producer": "tests/oracle/lora_ref.py"})


if __name__ == "__main__":
    main()
