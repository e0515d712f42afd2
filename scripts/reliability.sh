#!/usr/bin/env bash
# Reliability suite: kill storm, wire fuzzer, hostile corpora, disk full (tmpfs; needs root),
# degenerate training runs, crash containment — each against the real binaries on loopback; the
# kill storm, the wire fuzzer and disk full also against a PostgreSQL store the tests start.
# The CI version takes a few minutes after the build; --long runs 200 kills and 10^6 fuzz
# messages (I2X_RELIABILITY_LONG=1). The daemon, trainer and client under test are the release
# builds (a debug build's analyses take ~10x longer); I2X_RELIABILITY_SEED replays a seed.
# Usage: scripts/reliability.sh [--long]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--long" ]; then export I2X_RELIABILITY_LONG=1; fi
scripts/install-prerequisites.sh >&2
swift build -c release -Xswiftc -warnings-as-errors >&2
swift build --build-tests -Xswiftc -warnings-as-errors >&2
log=$(mktemp)
started=$(date +%s)
status=0
I2X_PRODUCTS_DIR="$PWD/.build/release" swift test --skip-build --no-parallel --filter Reliability 2>&1 | tee "$log" \
  || status=$?
elapsed=$(($(date +%s) - started))
echo
echo "== reliability summary ($([ -n "${I2X_RELIABILITY_LONG:-}" ] && echo long || echo CI) version, ${elapsed} s) =="
grep -E '^\[reliability\]' "$log" | sed 's/^\[reliability\] /  /' | cut -c1-220 || true
grep -E '^(✔|✘) Test [a-zA-Z]+\(\)' "$log" | sed 's/^/  /' || true
grep -E '^(✔|✘) Test run' "$log" || true
rm -f "$log"
exit "$status"
