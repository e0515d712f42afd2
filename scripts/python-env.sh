#!/usr/bin/env bash
# Creates (once) the Python virtual environment for the i2x Python package's tests, outside the
# checkout so CI reruns reuse it: python3.11 venv at $I2X_VENV (default /opt/i2x-venv) with
# pyzmq, numpy, safetensors, pytest, jsonschema (python/tests/test_json_schemas.py), scikit-learn
# (scripts/crosscheck-sklearn.py) and torch (the CPU wheel from /opt/wheels when present, else
# PyPI's). Idempotent: when everything imports already it only says so. Prints what it did.
set -euo pipefail
venv="${I2X_VENV:-/opt/i2x-venv}"
python="${I2X_PYTHON:-python3.11}"
if [ ! -x "$venv/bin/python" ]; then
  echo "python-env: creating $venv with $python"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
else
  echo "python-env: using $venv ($("$venv/bin/python" --version))"
fi
pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
if "$venv/bin/python" -c "import zmq, numpy, safetensors, pytest, jsonschema, sklearn" 2>/dev/null; then
  echo "python-env: pyzmq, numpy, safetensors, pytest, jsonschema, scikit-learn already installed"
else
  echo "python-env: installing pyzmq numpy safetensors pytest jsonschema scikit-learn"
  "${pip[@]}" pyzmq numpy safetensors pytest jsonschema scikit-learn
fi
if "$venv/bin/python" -c "import torch" 2>/dev/null; then
  echo "python-env: torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)') already installed"
else
  wheel=$(ls /opt/wheels/torch-*cp311*.whl 2>/dev/null | head -n 1 || true)
  if [ -n "$wheel" ]; then
    echo "python-env: installing torch from $wheel"
    "${pip[@]}" "$wheel"
  else
    echo "python-env: installing torch (CPU) from PyPI; this is a large download"
    "${pip[@]}" torch --index-url https://download.pytorch.org/whl/cpu || "${pip[@]}" torch
  fi
fi
echo "python-env: ready: $venv/bin/python"
