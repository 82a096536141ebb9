"""PyTorch oracle for the per-token policy losses (tests/align).

stdin: {"surrogate": [...], "kl": [...], "groups": {...}}; stdout: loss and
dL/dlogp per case by autograd (float64), and group advantages computed with
torch's mean/std."""
import json
import sys

import torch

c = json.load(sys.stdin)
out = {"surrogate": [], "kl": []}
for s in c["surrogate"]:
    lp = torch.tensor(s["logp"], dtype=torch.float64, requires_grad=True)
    r = torch.exp(lp - s["old"])
    a = s["adv"]
    loss = -torch.min(r * a, torch.clamp(r, 1 - s["lo"], 1 + s["hi"]) * a)
    loss.backward()
    out["surrogate"].append({"loss": loss.item(), "d": lp.grad.item()})
for s in c["kl"]:
    lp = torch.tensor(s["logp"], dtype=torch.float64, requires_grad=True)
    d = s["ref"] - lp
    loss = torch.exp(d) - d - 1
    loss.backward()
    out["kl"].append({"loss": loss.item(), "d": lp.grad.item()})
g = c["groups"]
x = torch.tensor(g["rewards"], dtype=torch.float64).view(-1, g["size"])
centred = x - x.mean(dim=1, keepdim=True)
out["scaled"] = (centred / (x.std(dim=1, unbiased=False, keepdim=True) + 1e-4)).flatten().tolist()
out["unscaled"] = centred.flatten().tolist()
json.dump(out, sys.stdout)
