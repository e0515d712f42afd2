#!/usr/bin/env python3
"""Training speed side by side with PyTorch (issue 13, part 5): alternates `i2x-bench train`
and `scripts/bench-pytorch.py` (ONLY=train) for ROUNDS rounds on the same machine, both
through their trainer's code path (real Fashion-MNIST batches for smallcnn and smallcnn-bn,
random bytes of CIFAR's shape for cifarcnn; BatchNorm in training mode; SGD step), and prints
one JSON line per round and architecture, then one per architecture with the median of the
per-round ratios (target ≥ 1.3).

Usage: /opt/i2x-venv/bin/python scripts/bench-train.py [ROUNDS]   (default 5; release build)"""
import json, os, statistics, subprocess, sys

from openblas_env import openblas_env

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
env = openblas_env(ONLY="train")


def figures(command):
    out = subprocess.run(command, cwd=root, env=env, check=True, capture_output=True, text=True).stdout
    return {line["arch"]: line["images_per_second"] for line in map(json.loads, out.splitlines())
            if line.get("figure") == "train"}


ratios = {}
for r in range(1, rounds + 1):
    ours = figures([os.path.join(root, ".build/release/i2x-bench"), "train"])
    theirs = figures([sys.executable, os.path.join(root, "scripts/bench-pytorch.py")])
    for arch in ours:
        ratio = ours[arch] / theirs[arch]
        ratios.setdefault(arch, []).append(ratio)
        print(json.dumps({"figure": "train_side_by_side", "round": r, "arch": arch, "i2x_images_per_second":
                          round(ours[arch], 1), "pytorch_images_per_second": round(theirs[arch], 1),
                          "ratio": round(ratio, 3)}), flush=True)
for arch, values in ratios.items():
    print(json.dumps({"figure": "train_ratio_median", "arch": arch, "rounds": len(values),
                      "median_ratio": round(statistics.median(values), 3), "min_ratio": round(min(values), 3),
                      "max_ratio": round(max(values), 3), "target": 1.3}), flush=True)
