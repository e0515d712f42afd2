#!/usr/bin/env python3
"""Regenerates Tests/ModelsTests/Fixtures/decoder/*: PyTorch reference values for the layers a
VAE decoder needs (Unflatten, nearest Upsample, SiLU, Sigmoid) in a tiny decoder-like network.

  fc Linear(6, 3·4·4) → unflatten (3,4,4) → up1 Upsample(×2) → conv1 Conv2d(3,3,3,p=1) → silu
  → up2 Upsample(×2) → conv2 Conv2d(3,1,3,p=1) → sigmoid;  (N,6) → (N,1,16,16)

model.safetensors holds the state dict (F32). reference.safetensors holds, for a batch of 3:
`input` (3,6), `output` (3,1,16,16), `upstream` R (same shape as output), and the gradients of
L = Σ output ⊙ R: `input_grad` and `grad.<state_dict name>`. The forward and backward run in
float64 from the stored float32 weights, so the reference is exact to float32 rounding.

Needs torch and safetensors (/opt/i2x-venv); not needed to build or test i2x: the outputs are
committed. Run: /opt/i2x-venv/bin/python scripts/make-layer-fixtures.py
"""
import os
from collections import OrderedDict

import torch
import torch.nn as nn
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "ModelsTests", "Fixtures", "decoder")


def decoder() -> nn.Sequential:
    return nn.Sequential(OrderedDict([
        ("fc", nn.Linear(6, 3 * 4 * 4)),
        ("unflatten", nn.Unflatten(1, (3, 4, 4))),
        ("up1", nn.Upsample(scale_factor=2, mode="nearest")),
        ("conv1", nn.Conv2d(3, 3, 3, padding=1)),
        ("silu", nn.SiLU()),
        ("up2", nn.Upsample(scale_factor=2, mode="nearest")),
        ("conv2", nn.Conv2d(3, 1, 3, padding=1)),
        ("sigmoid", nn.Sigmoid()),
    ]))


def main():
    torch.manual_seed(2026)
    model = decoder()
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    model = model.double()
    x = (torch.randn(3, 6) * 1.5).float()
    inp = x.double().requires_grad_(True)
    out = model(inp)
    upstream = torch.empty_like(out).uniform_(-1, 1).float()
    (out * upstream.double()).sum().backward()
    reference = {
        "input": x, "output": out.detach().float(), "upstream": upstream,
        "input_grad": inp.grad.float(),
    }
    for name, parameter in model.named_parameters():
        reference[f"grad.{name}"] = parameter.grad.float()
    os.makedirs(OUT, exist_ok=True)
    save_file(state, os.path.join(OUT, "model.safetensors"))
    save_file({k: v.contiguous() for k, v in reference.items()}, os.path.join(OUT, "reference.safetensors"))
    print(f"wrote {OUT}: {sorted(state)} and {sorted(reference)}")


if __name__ == "__main__":
    main()
