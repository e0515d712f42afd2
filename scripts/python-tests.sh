#!/usr/bin/env bash
# Runs the Python package's tests (python/tests) against the release binaries: prepares the venv
# outside the checkout (scripts/python-env.sh), installs ./python into it (editable), builds the
# release binaries unless I2X_BIN_DIR points at existing ones, and runs pytest. Extra arguments go
# to pytest (e.g. scripts/python-tests.sh -k outbox).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/python-env.sh
venv="${I2X_VENV:-/opt/i2x-venv}"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e ./python
if [ -z "${I2X_BIN_DIR:-}" ]; then
  swift build -c release -Xswiftc -warnings-as-errors
  export I2X_BIN_DIR="$PWD/.build/release"
fi
cd python
exec "$venv/bin/python" -m pytest -q "$@"
