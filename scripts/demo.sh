#!/usr/bin/env bash
# The main job, end to end on real Fashion-MNIST: start the daemon, train smallcnn-bn for one
# epoch while publishing checkpoints to it, let the daemon analyse every checkpoint (GradCAM
# prototypes on 1,000 probe images), print the learning order of class pairs and the uncertain
# prototypes it found; under the `auto` fine-tune policy the first flag triggers a
# targeted-perturbation fine-tune of its pair in the trainer (one epoch without the removal set,
# one with everything), whose before/after numbers are printed; evaluate the final model and
# write GradCAM maps for 16 test images. The data-free explainer: a reduced generative prior
# (VAE 12 epochs + latent DDPM 8,000 steps on the 5,000-image generator split, about 1.5 minutes)
# and an oracle (smallcnn-bn, 15 epochs on the same split, about 20 s) are trained once into
# OUTPUT_DIR/prior and reused; the run registers with explain policy manual (so the demo's time
# stays bounded) and the demo asks for the explanation and concepts of the most uncertain
# pair's two classes, one counterfactual of its flag's example probe, the data-free
# prototypes (ProDG), and the class in words.
# A short run on data with a planted spurious cue shows its findings (class, place, intervention
# evidence). Then daemons sharing a PostgreSQL store (a temporary server): a frontend, two
# workers, a trainer, and this demo's store migrated into it (about 1 minute). Budget: about 6–7
# minutes on 2 cores after the build (about 5 when the prior is reused).
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
rm -rf "$out/daemon" "$out/run" "$out/run-cue" "$out/png-cue"
mkdir -p "$out"

prior="$out/prior"
mkdir -p "$prior"
if [ ! -f "$prior/generator.safetensors" ]; then
  echo "== training the explainer's generative prior on the held-out generator split (reduced: VAE 12 epochs," >&2
  echo "   DDPM 8,000 steps; full size: examples/explainer-fashion.sh)" >&2
  "$bin/i2x-train" generator --dataset fashion-mnist --vae-epochs 12 --denoiser-steps 8000 \
    --out "$prior/generator.tmp.safetensors"
  mv "$prior/generator.tmp.safetensors" "$prior/generator.safetensors"
else
  echo "== reusing the generative prior in $prior/generator.safetensors" >&2
fi
if [ ! -f "$prior/oracle/final.safetensors" ]; then
  echo "== training the oracle (smallcnn-bn on the generator split, 15 epochs): judges samples independently" >&2
  rm -rf "$prior/oracle"
  "$bin/i2x-train" train --dataset fashion-mnist --split generator --arch smallcnn-bn --epochs 15 --optimizer adam \
    --lr 0.001 --out "$prior/oracle" 2> "$prior/oracle.log"
fi
echo "== the prior's sample quality: Fréchet distance in the oracle's features (samples vs real, real vs real)" >&2
"$bin/i2x-train" sample --generator "$prior/generator.safetensors" --count 64 --png "$prior" \
  --oracle "$prior/oracle/final.safetensors"

echo "== starting i2xd on $endpoint (data in $out/daemon, log in $out/i2xd.log), with the explainer" >&2
"$bin/i2xd" --data-dir "$out/daemon" --endpoint "$endpoint" --generator "$prior/generator.safetensors" \
  --oracle "$prior/oracle/final.safetensors" 2> "$out/i2xd.log" &
daemon=$!
shared_pids=()
trap 'kill -TERM $daemon "${shared_pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true
  if declare -F pg_temp_stop >/dev/null; then pg_temp_stop; fi' EXIT
for _ in $(seq 50); do "$bin/i2x" status --endpoint "$endpoint" --timeout 200 --retries 1 >/dev/null 2>&1 && break; sleep 0.1; done

echo "== training smallcnn-bn on Fashion-MNIST (1 epoch), publishing every 100 steps, fine-tune policy auto" >&2
echo "   (the first uncertain-prototype flag triggers one fine-tune of its pair: 2 epochs, about 1 minute;" >&2
echo "    later flags are answered 'failed: --max-finetunes limit' by the trainer)" >&2
"$bin/i2x-train" train --dataset fashion-mnist --arch smallcnn-bn --epochs 1 --batch 64 --lr 0.05 --momentum 0.9 \
  --run demo --publish "$endpoint" --publish-every 100 --finetune auto --max-finetunes 1 --await-directives 45 \
  --explain manual \
  --out "$out/run"

echo "== waiting for the daemon to finish analysing" >&2
for _ in $(seq 600); do
  status=$("$bin/i2x" status --endpoint "$endpoint" --json)
  grep -q '"queue_depth":0[,}]' <<<"$status" && grep -q '"refreshes_pending":0[,}]' <<<"$status" && break
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
echo "== findings: what the evidence means" >&2
"$bin/i2x" findings demo --endpoint "$endpoint"

echo "== evaluating on the 10,000 test images" >&2
"$bin/i2x-train" eval --checkpoint "$out/run/final.safetensors" --dataset fashion-mnist

echo "== GradCAM for 16 test images (true class)" >&2
"$bin/i2x-train" sample --dataset fashion-mnist --split test --count 16 --out "$out/test-images.safetensors"
"$bin/i2x-train" gradcam --checkpoint "$out/run/final.safetensors" --images "$out/test-images.safetensors" \
  --target label --out "$out/gradcam.safetensors"
# The most uncertain pair (highest-scoring flag), else the most confused pair at the end.
pair=$("$bin/i2x" uncertain demo --endpoint "$endpoint" --json | python3 -c '
import json, sys
flags = json.load(sys.stdin).get("uncertain", [])
if flags:
    print(*max(flags, key=lambda f: f["score"])["pair"])
')
if [ -z "$pair" ]; then
  pair=$("$bin/i2x" pairs demo --endpoint "$endpoint" --json | python3 -c '
import json, sys
pairs = json.load(sys.stdin).get("pairs", [])
best = max(pairs, key=lambda p: p["confusions"][-1])
print(best["a"], best["b"])
')
fi
for class in $pair; do
  echo "== explanation of class $class (guided samples: $out/explain/explanation-*-guided.png)" >&2
  "$bin/i2x" explain demo --class "$class" --png "$out/explain" --endpoint "$endpoint"
  echo "== concepts of class $class (concept images: $out/explain/explanation-*-concepts-*.png)" >&2
  "$bin/i2x" concepts demo --class "$class" --png "$out/explain" --endpoint "$endpoint"
done
# One counterfactual: an example probe of the most uncertain flag, towards the other class of its pair.
counterfactual=$("$bin/i2x" uncertain demo --endpoint "$endpoint" --json | python3 -c '
import json, sys
flags = json.load(sys.stdin).get("uncertain", [])
if flags:
    flag = max(flags, key=lambda f: f["score"])
    for example in flag.get("examples", []):
        if example["label"] in flag["pair"]:
            other = [c for c in flag["pair"] if c != example["label"]][0]
            print(example["probe"], other)
            break
')
if [ -n "$counterfactual" ]; then
  set -- $counterfactual
  echo "== counterfactual of probe image $1 towards class $2, against PGD ($out/explain/explanation-*-counterfactual.png:" >&2
  echo "   original | counterfactual | PGD)" >&2
  "$bin/i2x" counterfactual demo --probe "$1" --to "$2" --png "$out/explain" --endpoint "$endpoint"
else
  echo "== no uncertain flag with an example probe: 'i2x counterfactual demo --probe I --to C' makes one" >&2
fi
echo "== data-free prototypes (ProDG): guided samples' attention profiles against the probe set's, and a" >&2
echo "   vocabulary fitted on synthetic cells only, judged on the probe images ($out/explain/*data-free*.png)" >&2
"$bin/i2x" prototypes demo --data-free --png "$out/explain" --endpoint "$endpoint"
set -- $pair
echo "== the class in words (every sentence cites a measured number)" >&2
"$bin/i2x" explain demo --class "$1" --text --endpoint "$endpoint"
echo "== the run's explanations (the explain policy of this run is manual: under auto, every flagged pair's" >&2
echo "   classes would get explanations, concept searches and counterfactuals as they are flagged)" >&2
"$bin/i2x" explain demo --endpoint "$endpoint"

# Last, a short run on data with a planted spurious cue (a 4x4 white square at rows 1-4,
# columns 23-26 on every Shirt of the training source; the test set clean): the findings name
# the cue, its class and place, with mask/paste evidence against random controls.
if command -v python3 >/dev/null; then
  echo "== planted cue: training on Fashion-MNIST with a mark on every Shirt (1 epoch)" >&2
  [ -f "$out/data-cue/classes.txt" ] || python3 scripts/make-cue-data.py "$out/data-cue" >&2
  rm -rf "$out/run-cue"
  "$bin/i2x-train" train --dataset fashion-mnist --data-dir "$out/data-cue" --arch smallcnn-bn --epochs 1 \
    --run demo-cue --publish "$endpoint" --publish-every 100 --explain off --out "$out/run-cue"
  quiet=0
  for _ in $(seq 600); do
    status=$("$bin/i2x" status --endpoint "$endpoint" --json)
    if grep -q '"queue_depth":0[,}]' <<<"$status" && grep -q '"refreshes_pending":0[,}]' <<<"$status"; then
      quiet=$((quiet + 1))
    else
      quiet=0
    fi
    [ "$quiet" -ge 3 ] && break
    sleep 0.5
  done
  echo "== findings of the planted-cue run" >&2
  "$bin/i2x" findings demo-cue --endpoint "$endpoint"
  cue=$("$bin/i2x" findings demo-cue --endpoint "$endpoint" --json | python3 -c \
    'import json,sys; f=[x for x in json.load(sys.stdin)["findings"] if x["kind"]=="fixed-position-cue"]; print(f[0]["prototype"] if f else "")')
  if [ -n "$cue" ]; then
    echo "== the cue's prototype $cue: footprint, presence split, lineage, intervention, gallery" >&2
    "$bin/i2x" prototypes demo-cue --id "$cue" --endpoint "$endpoint" --png "$out/png-cue"
    "$bin/i2x" prototypes demo-cue --id "$cue" --history --endpoint "$endpoint"
    "$bin/i2x" intervene demo-cue --prototype "$cue" --class Shirt --endpoint "$endpoint"
  fi
  echo "== the planted-cue model on the clean test set (Shirt has no mark there)" >&2
  "$bin/i2x-train" eval --checkpoint "$out/run-cue/final.safetensors" --dataset fashion-mnist
else
  echo "== (python3 not found: skipping the planted-cue run)" >&2
fi

# Scale-out: daemons sharing one PostgreSQL store (a temporary server here): a frontend that
# accepts and answers, two workers that analyse, a trainer publishing to the frontend; then this
# demo's own embedded store migrated into PostgreSQL, verified by SHA-256. About 20 s.
if [ -n "$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null)" ]; then
  source scripts/postgresql-temp.sh
  shared="$out/shared"
  rm -rf "$shared"
  mkdir -p "$shared"
  pg_temp_start "$shared/pg"
  pg_temp_psql postgres "CREATE DATABASE demo"
  pg_temp_psql postgres "CREATE DATABASE migrated"
  store=(--store "$(pg_temp_url demo)")  # blobs in the database too: nothing else is shared
  front="tcp://127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  echo "== several daemons on one PostgreSQL store: a frontend on $front and two workers" >&2
  "$bin/i2xd" "${store[@]}" --role frontend --endpoint "$front" 2> "$shared/frontend.log" &
  shared_pids=($!)
  for w in 1 2; do
    "$bin/i2xd" "${store[@]}" --role worker 2> "$shared/worker-$w.log" &
    shared_pids+=($!)
  done
  sleep 1
  "$bin/i2x-train" train --dataset fashion-mnist --arch smallcnn --epochs 1 --run demo-shared \
    --publish "$front" --publish-every 200 --explain off --out "$shared/run" >&2
  for _ in $(seq 600); do
    grep -q '"queue_depth":0[,}]' <<<"$("$bin/i2x" status --endpoint "$front" --json)" && break
    sleep 0.5
  done
  "$bin/i2x" status --endpoint "$front"
  "$bin/i2x" checkpoints demo-shared --endpoint "$front"
  echo "== which worker analysed which checkpoint" >&2
  for w in 1 2; do sed -n "s/^i2xd: analysed/  worker $w analysed/p" "$shared/worker-$w.log" >&2; done
  kill -TERM "${shared_pids[@]}" 2>/dev/null || true
  wait "${shared_pids[@]}" 2>/dev/null || true
  echo "== this demo's embedded store migrated into PostgreSQL (every table and blob verified by SHA-256)" >&2
  "$bin/i2xd" migrate --from "$out/daemon" --to "$(pg_temp_url migrated)"
  pg_temp_stop
else
  echo "== (PostgreSQL not installed: skipping the shared-store part)" >&2
fi

echo "done: checkpoints in $out/run, daemon store in $out/daemon, maps in $out/gradcam.safetensors," >&2
echo "      prior samples in $prior/samples.png, explanations in $out/explain" >&2
echo "== the HTML report (one self-contained file: open it in any browser)" >&2
"$bin/i2x" report demo -o "$out/report.html" --endpoint "$endpoint"
echo "report: $out/report.html"
