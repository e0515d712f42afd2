#!/usr/bin/env bash
# Daemons sharing a PostgreSQL store (issue 15), measured on this machine: starts a temporary
# PostgreSQL server (Debian's binaries; initdb in a temporary directory, as the unprivileged
# postgres user when run as root), then prints JSON lines:
#  - `i2x-bench shared`: ingest rate and query latency on the embedded store and on PostgreSQL
#    (blobs in a directory, and in the database), and the queue's own cost per job on both;
#  - analysis throughput of one worker and of two, each pinned to a core of its own (taskset),
#    on the same pre-filled queue: RUNS trainers (smallcnn-bn, one epoch of Fashion-MNIST,
#    publishing every 200 steps) publish to a frontend that does not analyse; the database is
#    then copied (CREATE DATABASE … TEMPLATE) so both trials start from the same queue.
#   scripts/bench-postgresql.sh [RUNS]      (default 4; needs a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-4}
bin=$PWD/.build/release
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; fi
source scripts/postgresql-temp.sh
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg_temp_stop
  rm -rf "$work"
}
trap cleanup EXIT
pg_temp_start "$work/pg"
port=$PG_PORT
psql() { pg_temp_psql "$@"; }
url() { pg_temp_url "$1"; }
psql postgres "CREATE DATABASE bench"
psql postgres "CREATE DATABASE bench_blobs"
I2X_BENCH_POSTGRESQL=$(url bench) I2X_BENCH_POSTGRESQL_DATABASE_BLOBS=$(url bench_blobs) "$bin/i2x-bench" shared

# The queue: trainers publishing to a frontend (no analysis), at once.
psql postgres "CREATE DATABASE queue"
blobs=$work/blobs
endpoint="tcp://127.0.0.1:$((port + 1))"
"$bin/i2xd" --role frontend --store "$(url queue)" --blob-dir "$blobs" --endpoint "$endpoint" 2>"$work/frontend.log" &
pids+=($!)
sleep 1
trainers=()
for r in $(seq "$runs"); do
  "$bin/i2x-train" train --dataset fashion-mnist --arch smallcnn-bn --epochs 1 --batch 64 --run "run-$r" \
    --publish "$endpoint" --publish-every 200 --out "$work/run-$r" >"$work/train-$r.log" 2>&1 &
  trainers+=($!)
done
for pid in "${trainers[@]}"; do wait "$pid"; done
kill -TERM "${pids[0]}" && wait "${pids[0]}" 2>/dev/null || true
pids=()
psql postgres "CREATE DATABASE queue2 TEMPLATE queue"
jobs=$(psql queue "SELECT COUNT(*) FROM jobs WHERE kind = 'analyze' AND state = 'queued'")

for trial in "1 queue" "2 queue2"; do
  read -r workers database <<<"$trial"
  start=$(date +%s.%N)
  for core in $(seq 0 $((workers - 1))); do
    taskset -c "$core" "$bin/i2xd" --role worker --store "$(url "$database")" --blob-dir "$blobs" \
      --endpoint "tcp://127.0.0.1:$((port + 2 + core))" 2>"$work/worker-$workers-$core.log" &
    pids+=($!)
  done
  while [ "$(psql "$database" "SELECT COUNT(*) FROM jobs WHERE kind = 'analyze' AND state IN ('queued', 'running')")" != 0 ]; do
    sleep 0.2
  done
  end=$(date +%s.%N)
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
  done_jobs=$(psql "$database" "SELECT COUNT(*) FROM jobs WHERE kind = 'analyze' AND state = 'done'")
  python3 -c "
import json, sys
workers, jobs, done, start, end, runs = sys.argv[1:]
seconds = float(end) - float(start)
print(json.dumps({'figure': 'shared_analysis_throughput', 'store': 'postgresql', 'workers': int(workers),
  'pinned': 'one core each (taskset)', 'runs': int(runs), 'queued_analyses': int(jobs), 'done': int(done),
  'seconds': round(seconds, 2), 'analyses_per_second': round(int(done) / seconds, 3)}))" \
    "$workers" "$jobs" "$done_jobs" "$start" "$end" "$runs"
done
