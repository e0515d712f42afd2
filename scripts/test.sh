#!/usr/bin/env bash
# The test command: installs prerequisites, then runs every test (unit, fixture, end to end;
# the daemon suite on SQLite and on PostgreSQL),
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
# The daemon suite again, against PostgreSQL (a server the tests start: initdb in a temporary
# directory, as the unprivileged postgres user when run as root).
I2X_TEST_STORE=postgresql swift test --skip-build --filter DaemonTests
scripts/reliability.sh
scripts/python-tests.sh
"${I2X_VENV:-/opt/i2x-venv}/bin/python" scripts/crosscheck-sklearn.py
"${I2X_VENV:-/opt/i2x-venv}/bin/python" scripts/crosscheck-diffusion.py
