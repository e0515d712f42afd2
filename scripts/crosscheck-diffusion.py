#!/usr/bin/env python3
"""Cross-checks the explainer's numerics against independent implementations.

Runs .build/release/i2x-crosscheck (or $I2X_BIN_DIR/i2x-crosscheck) and compares:
- the cosine noise schedule (T = 1000) with diffusers' `betas_for_alpha_bar` written out in
  numpy (beta_t = min(1 - abar((t+1)/T) / abar(t/T), 0.999), alphas_cumprod = cumprod(1 - beta)),
  to 1e-9, and the 50 DDIM timesteps with diffusers' "leading" spacing;
- the Fréchet distance with the FID formula written with scipy.linalg.sqrtm, on correlated
  Gaussian feature sets (64 dimensions, 300 and 400 rows), to 1e-6 relative.

Exit 0 when every check passes, 1 otherwise. Needs numpy and scipy (scripts/python-env.sh).
Usage: /opt/i2x-venv/bin/python scripts/crosscheck-diffusion.py
"""
import json
import math
import os
import subprocess
import sys

import numpy as np
from scipy import linalg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(os.environ.get("I2X_BIN_DIR", os.path.join(ROOT, ".build", "release")), "i2x-crosscheck")


def ours(request):
    result = subprocess.run([BINARY], input=json.dumps(request).encode(), capture_output=True, check=True)
    return json.loads(result.stdout)


def reference_schedule(steps, s=0.008):
    def abar(u):
        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2

    betas = np.array([min(1 - abar((t + 1) / steps) / abar(t / steps), 0.999) for t in range(steps)])
    return np.cumprod(1 - betas)


def reference_frechet(a, b):
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(s1 @ s2)
    root = root.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * root))


def main():
    failures = 0
    got = ours({"algorithm": "schedule", "x": [], "rows": 0, "columns": 0, "steps": 1000})
    want = reference_schedule(1000)
    error = float(np.max(np.abs(np.array(got["alpha_bar"]) - want)))
    leading = list(range(0, 1000, 20))[::-1]
    ok = error < 1e-9 and got["ddim_steps"] == leading
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} cosine schedule: max |alpha_bar - diffusers formula| = {error:.2e}; DDIM steps {'match' if got['ddim_steps'] == leading else 'differ'}")

    rng = np.random.default_rng(3)
    d = 64
    mix = rng.normal(size=(d, d)) / math.sqrt(d)
    a = rng.normal(size=(300, d)) @ mix
    b = rng.normal(size=(400, d)) @ (mix * 1.3) + 0.2
    ref = reference_frechet(a, b)
    got = ours({"algorithm": "frechet", "x": a.ravel().tolist(), "y": b.ravel().tolist(), "rows": 300, "rowsY": 400, "columns": d})["distance"]
    relative = abs(got - ref) / abs(ref)
    ok = relative < 1e-6
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} Fréchet distance: ours {got:.8f}, scipy sqrtm {ref:.8f} (relative {relative:.1e})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
