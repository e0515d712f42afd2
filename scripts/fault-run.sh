#!/usr/bin/env bash
# Fault run: a trainer publishes 50 checkpoints while the daemon is SIGKILLed at random moments
# and restarted; at the end every checkpoint must be stored exactly once with the file's sha256
# and PRAGMA integrity_check must say ok. Usage: scripts/fault-run.sh [KILLS] (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
kills="${1:-5}"
swift build -c release >&2
bin=.build/release
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
endpoint="tcp://127.0.0.1:$port"
start_daemon() { "$bin/i2xd" --data-dir "$work/daemon" --endpoint "$endpoint" 2>> "$work/i2xd.log" & daemon=$!; }
start_daemon
# 2000 training images, batch 20: 100 steps an epoch, 2 epochs; every 4 steps: 49 + final = 50.
"$bin/i2x-train" train --dataset synthetic --arch smallcnn-bn --epochs 2 --batch 20 --validation-size 200 \
  --probe-per-class 10 --generator-size 100 --run fault --publish "$endpoint" --publish-every 4 \
  --drain-timeout 120 --out "$work/run" 2> "$work/train.log" &
trainer=$!
for i in $(seq "$kills"); do
  sleep "0.$((RANDOM % 9 + 1))"
  kill -0 $trainer 2>/dev/null || break
  kill -9 $daemon; wait $daemon 2>/dev/null || true
  echo "killed the daemon ($i)" >&2
  sleep "0.$((RANDOM % 5))"
  start_daemon
done
wait $trainer
written=$(ls "$work/run"/step-*.safetensors | wc -l)
stored=$("$bin/i2x" checkpoints fault --endpoint "$endpoint" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["checkpoints"]))')
mismatches=0
for f in "$work/run"/step-*.safetensors; do
  step=$(basename "$f" .safetensors); step=${step#step-}
  sha=$(sha256sum "$f" | cut -d' ' -f1)
  "$bin/i2x" checkpoints fault --endpoint "$endpoint" --json | python3 -c "import json,sys; rows={r['step']:r['sha256'] for r in json.load(sys.stdin)['checkpoints']}; sys.exit(0 if rows.get($step)=='$sha' else 1)" || mismatches=$((mismatches+1))
done
kill -TERM $daemon; wait $daemon || true
integrity=$(sqlite3 "$work/daemon/i2x.sqlite" 'PRAGMA integrity_check')
rows=$(sqlite3 "$work/daemon/i2x.sqlite" "SELECT COUNT(*), COUNT(DISTINCT step) FROM checkpoints WHERE run='fault'")
echo "written $written, stored $stored, rows|distinct $rows, sha mismatches $mismatches, integrity $integrity"
[ "$written" = 50 ] && [ "$stored" = 50 ] && [ "$mismatches" = 0 ] && [ "$integrity" = ok ]
