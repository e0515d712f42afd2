#!/usr/bin/env bash
# Installs the Debian packages i2x builds against, the Fashion-MNIST dataset and Chromium (the
# report tests render the HTML report headless), if missing.
set -euo pipefail
packages=(libopenblas-dev libzmq3-dev libsqlite3-dev libpq-dev postgresql zlib1g-dev dataset-fashion-mnist strace
  chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
