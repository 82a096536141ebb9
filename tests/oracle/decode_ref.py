#!/usr/bin/env python3
"""Greedy decoding oracle: the PyTorch model of llama_ref.py, recomputing the
whole sequence at every step (no cache), so that a KV-cached engine can be
checked step by step against it.

Run (Debian's python3 has torch):
  /usr/bin/python3 tests/oracle/decode_ref.py --model DIR --prompt prompt.safetensors \
      --steps N --out out.safetensors
DIR holds config.json + model.safetensors (HF Llama names). prompt.safetensors:
"prompt" I32 [P]. out.safetensors: "tokens" F32 [N] (the greedy tokens, ties
to the lowest id as torch.argmax gives) and "logits" F32 [N, V], the logits
from which step k's token was chosen (the last position after prompt +
k generated tokens).
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompt", required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    with open(os.path.join(a.model, "config.json")) as f:
        cfg = llama_ref.Config(json.load(f))
    weights, _ = safetensors_np.load(os.path.join(a.model, "model.safetensors"))
    params = llama_ref.load_params(cfg, weights)
    prompt, _ = safetensors_np.load(a.prompt)
    seq = [int(t) for t in prompt["prompt"]]
    tokens, logits = [], []
    with torch.no_grad():
        for _ in range(a.steps):
            out = llama_ref.forward(cfg, params, torch.tensor([seq], dtype=torch.int64))
            last = out[0, -1].float()
            nxt = int(torch.argmax(last))
            logits.append(last.numpy().copy())
            tokens.append(nxt)
            seq.append(nxt)
    safetensors_np.save(a.out, {"tokens": np.array(tokens, dtype=np.float32), "logits": np.stack(logits)},
                        metadata={"producer": "tests/oracle/decode_ref.py"})


if __name__ == "__main__":
    main()
