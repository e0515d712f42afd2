#!/usr/bin/env bash
# Training speed beside an analysing daemon (issue 13, part 3), as a user runs it: the real
# i2xd and i2x-train on the same cores. Each round trains one epoch of smallcnn-bn on
# Fashion-MNIST alone, then publishing every N steps (100, 200, 500) to a fresh i2xd, and
# prints one JSON line per (round, N): images/s alone and beside the daemon, their ratio
# (target ≥ 0.9 at N = 200), the checkpoints published, the seconds until the run's last
# checkpoint was analysed, and the seconds the daemon's queue took to drain after training
# ended (target: within two checkpoint intervals; it includes the intervention sweep).
#   scripts/bench-beside.sh [ROUNDS]      (default 2; needs a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
bin=.build/release
# AVX-512 kernels for OpenBLAS 0.3.21, which does not recognise Zen 5; only where the CPU has them
# (forcing SkylakeX on a CPU without AVX-512, such as Zen 3, dies of an illegal instruction).
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; fi
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
endpoint="tcp://127.0.0.1:$port"
daemon=""
cleanup() {
  [ -n "$daemon" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

train() { # out-dir [publish-every]
  local args=(train --dataset fashion-mnist --arch smallcnn-bn --epochs 1 --batch 64 --lr 0.05 --momentum 0.9
    --out "$1")
  [ $# -gt 1 ] && args+=(--run "beside-$2-$RANDOM" --publish "$endpoint" --publish-every "$2" --drain-timeout 0)
  "$bin/i2x-train" "${args[@]}" 2>&1 | sed -n 's/.*trained \([0-9]*\) steps at \([0-9.]*\) images\/s.*/\1 \2/p'
}

for round in $(seq "$rounds"); do
  for every in 100 200 500; do
    read -r _ alone < <(train "$work/alone-$round-$every")
    rm -rf "$work/daemon"
    "$bin/i2xd" --data-dir "$work/daemon" --endpoint "$endpoint" 2>"$work/daemon.log" &
    daemon=$!
    sleep 1
    read -r steps beside < <(train "$work/beside-$round-$every" "$every")
    ended=$(date +%s.%N)
    latest=""
    for _ in $(seq 1200); do
      status=$("$bin/i2x" status --endpoint "$endpoint" --json)
      # The run's last checkpoint analysed (the queue may still hold the intervention sweep).
      [ -z "$latest" ] && grep -q "\"analysed_step\":$steps[,}]" <<<"$status" && latest=$(date +%s.%N)
      grep -q '"queue_depth":0[,}]' <<<"$status" && break
      sleep 0.1
    done
    now=$(date +%s.%N)
    latest=${latest:-$now}
    kill -TERM "$daemon" && wait "$daemon" 2>/dev/null || true
    daemon=""
    python3 -c "
import json, sys
alone, beside, steps, every, ended, now, rnd, latest = map(float, sys.argv[1:])
drained = now - ended
print(json.dumps({'figure': 'train_beside_daemon', 'arch': 'smallcnn-bn', 'round': int(rnd),
  'publish_every_steps': int(every), 'checkpoints': int(steps // every) + 1,
  'alone_images_per_second': alone, 'beside_images_per_second': beside, 'ratio': round(beside / alone, 3),
  'seconds_to_latest_analysed': round(latest - ended, 2), 'seconds_to_drain_after_training': round(drained, 2),
  'checkpoint_interval_seconds': round(every * 64 / beside, 2)}))
" "$alone" "$beside" "$steps" "$every" "$ended" "$now" "$round" "$latest"
  done
done
