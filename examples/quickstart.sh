#!/usr/bin/env bash
# Quick start on synthetic data (seconds, no downloads): train, evaluate, explain.
# Usage: examples/quickstart.sh [BIN_DIR] [OUT_DIR]   (defaults: .build/release, a temp dir)
set -euo pipefail
bin="${1:-.build/release}"
out="${2:-$(mktemp -d)}"
"$bin/i2x-train" train --dataset synthetic --arch smallcnn --epochs 1 --batch 32 \
  --validation-size 200 --probe-per-class 10 --generator-size 100 --out "$out/run"
"$bin/i2x-train" eval --checkpoint "$out/run/final.safetensors" --dataset synthetic --json > "$out/eval.json"
"$bin/i2x-train" sample --dataset synthetic --count 4 --out "$out/images.safetensors"
"$bin/i2x-train" gradcam --checkpoint "$out/run/final.safetensors" --images "$out/images.safetensors" \
  --target label --out "$out/cam.safetensors"
echo "$out"
