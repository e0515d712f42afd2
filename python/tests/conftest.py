"""Fixtures: the real i2xd on a free loopback port with a temporary data directory.

Binaries come from ``$I2X_BIN_DIR`` (default: the checkout's ``.build/release``). Every daemon
is stopped (SIGTERM, then SIGKILL after 5 s) by its fixture's finaliser, and every test checks
that no publisher thread outlived it.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import i2x

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = os.environ.get("I2X_BIN_DIR", os.path.join(ROOT, ".build", "release"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from openblas_env import openblas_env  # noqa: E402  (the scripts' shared helper)


def binary(name: str) -> str:
    path = os.path.join(BIN_DIR, name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: build with `swift build -c release` or set I2X_BIN_DIR")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """One i2xd process; ``start`` waits until it answers ``status``."""

    def __init__(self, data_dir: str, port: int = 0):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.endpoint = f"tcp://127.0.0.1:{self.port}"
        self.process = None
        self.log_path = os.path.join(os.path.dirname(data_dir), f"i2xd-{self.port}.log")

    def start(self, *flags: str) -> "Daemon":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [binary("i2xd"), "--data-dir", self.data_dir, "--endpoint", self.endpoint, *flags],
            stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 15
        client = i2x.Client(self.endpoint, timeout=0.5, retries=1)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"i2xd exited with {self.process.returncode}: {open(self.log_path).read()[-2000:]}")
            try:
                client.status()
                return self
            except i2x.DaemonUnavailable:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("i2xd did not answer within 15 s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def client(self) -> i2x.Client:
        return i2x.Client(self.endpoint, timeout=2, retries=2)

    def wait_for_analysis(self, run: str, count: int, timeout: float = 90) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.client().checkpoints(run)
            if len(rows) >= count and all(r["job"] in ("done", "failed") for r in rows):
                return rows
            time.sleep(0.2)
        raise AssertionError(f"analysis of {run} not finished in {timeout} s: {self.client().checkpoints(run)}")


@pytest.fixture
def daemon_factory(tmp_path):
    started = []

    def make(port: int = 0, data_dir=None, *flags) -> Daemon:
        directory = data_dir or str(tmp_path / f"data-{len(started)}")
        daemon = Daemon(directory, port)
        started.append(daemon)
        return daemon.start(*flags)

    yield make
    for daemon in started:
        daemon.stop()


@pytest.fixture
def daemon(daemon_factory):
    return daemon_factory()


@pytest.fixture(autouse=True)
def no_threads_left():
    yield
    leftover = [t.name for t in threading.enumerate() if t.name.startswith("i2x")]
    assert not leftover, f"threads left running: {leftover}"


def probe(count=20, shape=(1, 28, 28), classes=10, seed=0):
    """Seeded uint8 probe images with labels cycling through the classes."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, *shape), dtype=np.uint8)
    return images, np.arange(count) % classes


CLASSES = [f"c{i}" for i in range(10)]
