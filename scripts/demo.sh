#!/usr/bin/env bash
# The main job, end to end on real Fashion-MNIST: train smallcnn-bn for one epoch, evaluate it
# on the test set, and write GradCAM maps for 16 test images. Installs its own prerequisites.
# Usage: scripts/demo.sh [OUTPUT_DIR]   (default: demo-out)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-demo-out}"

scripts/install-prerequisites.sh
# AVX-512 kernels for OpenBLAS 0.3.21, which does not recognise Zen 5; only where the CPU has them.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; fi

echo "== building (release)" >&2
swift build -c release --product i2x-train >&2
bin=.build/release/i2x-train

echo "== training smallcnn-bn on Fashion-MNIST (1 epoch)" >&2
"$bin" train --dataset fashion-mnist --arch smallcnn-bn --epochs 1 --batch 64 --lr 0.05 --momentum 0.9 \
  --checkpoint-every 200 --run demo --out "$out/run"

echo "== evaluating on the 10,000 test images" >&2
"$bin" eval --checkpoint "$out/run/final.safetensors" --dataset fashion-mnist

echo "== GradCAM for 16 test images (true class)" >&2
"$bin" sample --dataset fashion-mnist --split test --count 16 --out "$out/test-images.safetensors"
"$bin" gradcam --checkpoint "$out/run/final.safetensors" --images "$out/test-images.safetensors" \
  --target label --out "$out/gradcam.safetensors"
echo "done: checkpoints in $out/run, maps in $out/gradcam.safetensors" >&2
