"""The examples run (shortened) against the real daemon."""

import os
import subprocess
import sys

import pytest

from conftest import ROOT

DATA = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


@pytest.mark.skipif(not os.path.exists(DATA), reason="needs Debian's dataset-fashion-mnist")
def test_pytorch_attach_and_notebook_queries(daemon, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    attach = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "pytorch_attach.py"), "--endpoint", daemon.endpoint,
         "--steps", "40", "--publish-every", "10", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    assert attach.returncode == 0, attach.stderr[-3000:]
    assert "published 4 checkpoints, 0 pending, 0 refused" in attach.stdout
    assert "i2x uncertain torch-fmnist (analysis of step 40)" in attach.stdout
    queries = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "notebook_queries.py"), "--endpoint", daemon.endpoint],
        capture_output=True, text=True, timeout=60, env=env)
    assert queries.returncode == 0, queries.stderr[-3000:]
    assert "steps [10, 20, 30, 40]" in queries.stdout and "first pairs separated" in queries.stdout
