#!/usr/bin/env bash
# The data-free explainer at full size on Fashion-MNIST (DESIGN §8; about 6–8 minutes on 2
# cores after the build): the generative prior with the default settings (VAE 30 epochs,
# latent DDPM 20,000 steps on the 5,000-image generator split), an oracle trained on that split,
# the prior's Fréchet distance next to real-vs-real, a classifier trained for 2 epochs on the
# training split, and the explanation of every class (100 guided samples each, scores with 95%
# intervals, the sanity check), summarised as one table. Outputs in OUTPUT_DIR (default
# explainer-out): generator.safetensors, oracle/, classifier/, samples.png, class-N/*.png,
# explanations.jsonl.
# Usage: examples/explainer-fashion.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-explainer-out}"
scripts/install-prerequisites.sh
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; fi
swift build -c release --product i2x-train >&2
bin=.build/release
mkdir -p "$out"
[ -f "$out/generator.safetensors" ] || "$bin/i2x-train" generator --dataset fashion-mnist --out "$out/generator.safetensors"
[ -f "$out/oracle/final.safetensors" ] || "$bin/i2x-train" train --dataset fashion-mnist --split generator \
  --arch smallcnn-bn --epochs 15 --optimizer adam --lr 0.001 --out "$out/oracle"
[ -f "$out/classifier/final.safetensors" ] || "$bin/i2x-train" train --dataset fashion-mnist --arch smallcnn-bn \
  --epochs 2 --out "$out/classifier"
"$bin/i2x-train" eval --checkpoint "$out/oracle/final.safetensors" --dataset fashion-mnist | head -1 | sed 's/^/oracle: /'
"$bin/i2x-train" eval --checkpoint "$out/classifier/final.safetensors" --dataset fashion-mnist | head -1 | sed 's/^/classifier: /'
"$bin/i2x-train" sample --generator "$out/generator.safetensors" --count 64 --png "$out" \
  --oracle "$out/oracle/final.safetensors"
: > "$out/explanations.jsonl"
for class in 0 1 2 3 4 5 6 7 8 9; do
  "$bin/i2x-train" explain --generator "$out/generator.safetensors" --checkpoint "$out/classifier/final.safetensors" \
    --oracle "$out/oracle/final.safetensors" --class "$class" --png "$out/class-$class" --json >> "$out/explanations.jsonl"
done
python3 - "$out/explanations.jsonl" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print(f"{'class':<14}{'activation':>22}{'prior':>22}{'oracle':>8}{'disjoint':>10}{'sanity':>8}{'seconds':>9}")
def pct(p):
    return f"{p['rate']*100:5.1f}% [{p['low']*100:4.1f},{p['high']*100:5.1f}]"
for r in rows:
    a, p = r["activation"], r["prior_activation"]
    print(f"{r['class_name']:<14}{pct(a):>22}{pct(p):>22}{r['oracle']['rate']*100:7.1f}%{str(a['low'] > p['high']):>10}"
          f"{str(r['sanity']['passed']):>8}{r['seconds']:9.1f}")
print(f"disjoint intervals: {sum(r['activation']['low'] > r['prior_activation']['high'] for r in rows)}/{len(rows)}; "
      f"sanity passed: {sum(r['sanity']['passed'] for r in rows)}/{len(rows)}")
PY
