"""PyTorch oracle for the pairwise preference losses (tests/align).

Reads JSON cases on stdin, writes JSON results: loss and the gradients
with respect to the chosen and rejected terms, by autograd in float64.
Independent of our formulas: it writes each loss the way TRL's trainers do
(F.logsigmoid on the difference), and lets autograd differentiate."""
import json
import sys

import torch
import torch.nn.functional as F

out = []
for c in json.load(sys.stdin):
    a = torch.tensor(c["a"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(c["b"], dtype=torch.float64, requires_grad=True)
    if c["kind"] == "bt":
        loss = -F.logsigmoid(a - b - c["margin"])
    else:
        logits = (a - b) - (c["ref_a"] - c["ref_b"])
        if c["kind"] == "sigmoid":
            eps, beta = c["eps"], c["beta"]
            loss = -F.logsigmoid(beta * logits) * (1 - eps) - F.logsigmoid(-beta * logits) * eps
        else:
            loss = (logits - 1 / (2 * c["beta"])) ** 2
    loss.backward()
    out.append({"loss": loss.item(), "da": a.grad.item(), "db": b.grad.item()})
json.dump(out, sys.stdout)
