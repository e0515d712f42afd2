#!/usr/bin/env bash
# The test command: installs prerequisites, then runs every test (unit, fixture, end to end),
# then the reliability suite (kill storm, wire fuzzer, hostile corpora, disk full, degenerate
# runs, crash containment) against the release binaries, then the Python package's tests
# (scripts/python-tests.sh: pytest against the real i2xd; venv in /opt/i2x-venv), then the
# cross-check of the statistics against scikit-learn. With arguments, runs only
# `swift test --skip-build ARGS` (e.g. scripts/test.sh --filter DaemonTests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-prerequisites.sh
swift build --build-tests -Xswiftc -warnings-as-errors
if (($#)); then
  swift test --skip-build "$@"
  exit
fi
swift test --skip-build --skip Reliability
scripts/reliability.sh
scripts/python-tests.sh
"${I2X_VENV:-/opt/i2x-venv}/bin/python" scripts/crosscheck-sklearn.py
"${I2X_VENV:-/opt/i2x-venv}/bin/python" scripts/crosscheck-diffusion.py
