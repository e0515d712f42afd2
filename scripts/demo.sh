#!/usr/bin/env bash
# The main job, end to end on real Fashion-MNIST: start the daemon, train smallcnn-bn for one
# epoch while publishing checkpoints to it, let the daemon analyse every checkpoint (GradCAM
# prototypes on 1,000 probe images), print the learning order of class pairs and the uncertain
# prototypes it found; under the `auto` fine-tune policy the first flag triggers a
# targeted-perturbation fine-tune of its pair in the trainer (one epoch without the removal set,
# one with everything), whose before/after numbers are printed; evaluate the final model and
# write GradCAM maps for 16 test images. Budget: about 2–3 minutes on 2 cores after the build.
# Installs its own prerequisites.
# Usage: scripts/demo.sh [OUTPUT_DIR]   (default: demo-out)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-demo-out}"
endpoint="${I2X_ENDPOINT:-tcp://127.0.0.1:7070}"

scripts/install-prerequisites.sh
# AVX-512 kernels for OpenBLAS 0.3.21, which does not recognise Zen 5; only where the CPU has them.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; fi

echo "== building (release)" >&2
swift build -c release >&2
bin=.build/release
# A fresh store and run each time, so the demo always shows the same story.
rm -rf "$out/daemon" "$out/run"
mkdir -p "$out"

echo "== starting i2xd on $endpoint (data in $out/daemon, log in $out/i2xd.log)" >&2
"$bin/i2xd" --data-dir "$out/daemon" --endpoint "$endpoint" 2> "$out/i2xd.log" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 50); do "$bin/i2x" status --endpoint "$endpoint" --timeout 200 --retries 1 >/dev/null 2>&1 && break; sleep 0.1; done

echo "== training smallcnn-bn on Fashion-MNIST (1 epoch), publishing every 100 steps, fine-tune policy auto" >&2
echo "   (the first uncertain-prototype flag triggers one fine-tune of its pair: 2 epochs, about 1 minute;" >&2
echo "    later flags are answered 'failed: --max-finetunes limit' by the trainer)" >&2
"$bin/i2x-train" train --dataset fashion-mnist --arch smallcnn-bn --epochs 1 --batch 64 --lr 0.05 --momentum 0.9 \
  --run demo --publish "$endpoint" --publish-every 100 --finetune auto --max-finetunes 1 --await-directives 45 \
  --out "$out/run"

echo "== waiting for the daemon to finish analysing" >&2
for _ in $(seq 600); do
  "$bin/i2x" status --endpoint "$endpoint" --json | grep -q '"queue_depth":0[,}]' && break
  sleep 0.5
done
"$bin/i2x" status --endpoint "$endpoint"
"$bin/i2x" checkpoints demo --endpoint "$endpoint"

echo "== learning order of class pairs" >&2
"$bin/i2x" pairs demo --endpoint "$endpoint"
echo "== uncertain prototypes" >&2
"$bin/i2x" uncertain demo --endpoint "$endpoint"
echo "== fine-tunes the flags triggered (policy auto): removal set, segment, before/after" >&2
"$bin/i2x" directives demo --endpoint "$endpoint"
echo "== per-class progress, faithfulness, coupling" >&2
"$bin/i2x" progress demo --endpoint "$endpoint"

echo "== evaluating on the 10,000 test images" >&2
"$bin/i2x-train" eval --checkpoint "$out/run/final.safetensors" --dataset fashion-mnist

echo "== GradCAM for 16 test images (true class)" >&2
"$bin/i2x-train" sample --dataset fashion-mnist --split test --count 16 --out "$out/test-images.safetensors"
"$bin/i2x-train" gradcam --checkpoint "$out/run/final.safetensors" --images "$out/test-images.safetensors" \
  --target label --out "$out/gradcam.safetensors"
echo "done: checkpoints in $out/run, daemon store in $out/daemon, maps in $out/gradcam.safetensors" >&2
