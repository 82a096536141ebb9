"""PyTorch oracle for the per-token policy losses (tests/align).

stdin: {"surrogate": [...], "kl": [...], "groups": {...}}; stdout: loss and
dL/dlogp per case by autograd (float64), and group advantages computed with
torch's mean/std. With a "ppo" object (tests/align/ppo_math_test.cpp), also
PPO's pieces: KL-shaped rewards, GAE (as a discount matrix times the TD
errors, not the backward recursion the C++ uses), whitening, the clipped
value loss and dL/dV by autograd, explained variance and the adaptive KL
controller (Ziegler et al. 2019 / TRL's AdaptiveKLController)."""
import json
import sys

import torch

c = json.load(sys.stdin)
out = {"surrogate": [], "kl": []}
for s in c.get("surrogate", []):
    lp = torch.tensor(s["logp"], dtype=torch.float64, requires_grad=True)
    r = torch.exp(lp - s["old"])
    a = s["adv"]
    loss = -torch.min(r * a, torch.clamp(r, 1 - s["lo"], 1 + s["hi"]) * a)
    loss.backward()
    out["surrogate"].append({"loss": loss.item(), "d": lp.grad.item()})
for s in c.get("kl", []):
    lp = torch.tensor(s["logp"], dtype=torch.float64, requires_grad=True)
    d = s["ref"] - lp
    loss = torch.exp(d) - d - 1
    loss.backward()
    out["kl"].append({"loss": loss.item(), "d": lp.grad.item()})
if "groups" in c:
    g = c["groups"]
    x = torch.tensor(g["rewards"], dtype=torch.float64).view(-1, g["size"])
    centred = x - x.mean(dim=1, keepdim=True)
    out["scaled"] = (centred / (x.std(dim=1, unbiased=False, keepdim=True) + 1e-4)).flatten().tolist()
    out["unscaled"] = centred.flatten().tolist()
if "ppo" in c:
    p = c["ppo"]
    f64 = torch.float64
    po = {"shaped": [], "gae": [], "value": []}
    for s in p["shaped"]:
        r = -s["coef"] * (torch.tensor(s["logp"], dtype=f64) - torch.tensor(s["ref"], dtype=f64))
        r[-1] += s["score"]
        po["shaped"].append(r.tolist())
    for s in p["gae"]:
        r = torch.tensor(s["rewards"], dtype=f64)
        v = torch.tensor(s["values"], dtype=f64)
        n = len(r)
        delta = r + s["gamma"] * torch.cat([v[1:], torch.zeros(1, dtype=f64)]) - v
        idx = torch.arange(n, dtype=f64)
        lag = idx.view(1, -1) - idx.view(-1, 1)  # s - t
        disc = torch.where(lag >= 0, (s["gamma"] * s["lam"]) ** lag.clamp(min=0), torch.zeros((), dtype=f64))
        adv = disc @ delta
        po["gae"].append({"adv": adv.tolist(), "ret": (adv + v).tolist()})
    x = torch.tensor(p["whiten"], dtype=f64)
    po["whiten"] = ((x - x.mean()) * torch.rsqrt(x.var(unbiased=True) + 1e-8)).tolist()
    for s in p["value"]:
        v = torch.tensor(s["v"], dtype=f64, requires_grad=True)
        clipped = torch.clamp(v, s["old"] - s["eps"], s["old"] + s["eps"])
        loss = 0.5 * torch.max((v - s["ret"]) ** 2, (clipped - s["ret"]) ** 2)
        loss.backward()
        po["value"].append({"loss": loss.item(), "d": v.grad.item()})
    pred = torch.tensor(p["ev"]["pred"], dtype=f64)
    tgt = torch.tensor(p["ev"]["target"], dtype=f64)
    po["ev"] = (1 - (tgt - pred).var(unbiased=False) / tgt.var(unbiased=False)).item()
    k = p["kl_ctl"]
    value, coefs = k["init"], []
    for kl, n in zip(k["kl"], k["n"]):
        err = torch.clamp(torch.tensor(kl / k["target"] - 1, dtype=f64), -0.2, 0.2).item()
        value *= 1 + err * n / k["horizon"]
        coefs.append(value)
    po["kl_ctl"] = coefs
    out["ppo"] = po
json.dump(out, sys.stdout)
