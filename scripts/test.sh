#!/usr/bin/env bash
# The test command: installs prerequisites, then runs every test (unit, fixture, end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-prerequisites.sh
swift build --build-tests -Xswiftc -warnings-as-errors
swift test --skip-build "$@"
