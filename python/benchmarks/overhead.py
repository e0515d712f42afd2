"""Overhead of i2x.Publisher on a PyTorch training loop: one JSON line per figure.

    I2X_BIN_DIR=.build/release python python/benchmarks/overhead.py [--steps 400] [--rounds 3]

The loop trains the example's smallcnn-bn (batch 64, SGD, random 28×28 inputs) for ``--steps``
steps, alternating rounds without publishing and with ``publish`` every 100 steps to a real
i2xd (started here on loopback; 1,000-image probe set). Placements:

- ``analysis-off``: the daemon is stopped (SIGSTOP) once the run is registered and continued
  (SIGCONT) after the loop, so no analysis runs during the measured steps; the figure is the
  loop-side cost of publishing (snapshot, serialisation, fsync into the outbox, the sender
  thread retrying) with torch on every CPU. i2xd has no flag that turns analysis off, and on a
  loaded 2-core machine "other cores" are not free (see ``other-cores``);
- ``other-cores``: the training process is pinned to CPU 0 with one torch thread, the daemon
  (and its analysis processes) to the other CPUs (``taskset``), so the figure is the
  publisher's own cost: snapshot, serialisation, fsync, the sender thread;
- ``same-cores``: nothing pinned, torch on every CPU, the daemon analysing on the same cores.

Each line: placement, images/s without and with publishing (median of the rounds), the
relative slowdown, and every round's figures.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
import i2x  # noqa: E402
from pytorch_attach import CLASSES, Net  # noqa: E402


def loop(model, optimizer, x, y, steps, publisher=None, every=100, calls=None):
    """Images per second over ``steps`` training steps (after 20 warm-up steps); the seconds
    each ``publish`` call took are appended to ``calls``."""
    batches = [torch.randint(0, len(y), (64,)) for _ in range(steps + 20)]
    for batch in batches[:20]:
        optimizer.zero_grad()
        F.cross_entropy(model(x[batch]), y[batch]).backward()
        optimizer.step()
    started = time.perf_counter()
    for step, batch in enumerate(batches[20:], 1):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x[batch]), y[batch])
        loss.backward()
        optimizer.step()
        if publisher is not None and step % every == 0:
            called = time.perf_counter()
            publisher.publish(model, step=step, metrics={"loss": loss.item()}, final=step == steps)
            calls.append(time.perf_counter() - called)
    return steps * 64 / (time.perf_counter() - started)


def start_daemon(bin_dir, data_dir, endpoint, cpus, flags=()):
    command = [os.path.join(bin_dir, "i2xd"), "--data-dir", data_dir, "--endpoint", endpoint, *flags]
    if cpus:
        command = ["taskset", "-c", cpus] + command
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL, start_new_session=True)
    client = i2x.Client(endpoint, timeout=0.5, retries=1)
    for _ in range(100):
        try:
            client.status()
            return process
        except i2x.DaemonUnavailable:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("i2xd did not start")


def measure(placement, args, bin_dir):
    cpus = sorted(os.sched_getaffinity(0))
    if placement == "other-cores":
        if len(cpus) < 2:
            return None
        os.sched_setaffinity(0, {cpus[0]})
        torch.set_num_threads(1)
        daemon_cpus = ",".join(str(c) for c in cpus[1:])
    else:
        torch.set_num_threads(len(cpus))
        daemon_cpus = None
    flags = []
    work = tempfile.mkdtemp(prefix="i2x-overhead-")
    port = 20000 + os.getpid() % 20000
    endpoint = f"tcp://127.0.0.1:{port}"
    daemon = start_daemon(bin_dir, os.path.join(work, "data"), endpoint, daemon_cpus, flags)
    try:
        generator = torch.Generator().manual_seed(0)
        x = torch.rand((6400, 1, 28, 28), generator=generator)
        y = torch.randint(0, 10, (6400,), generator=generator)
        probe = (np.random.default_rng(0).integers(0, 256, (1000, 1, 28, 28), dtype=np.uint8), np.arange(1000) % 10)
        without, with_publishing, queue, calls = [], [], [], []
        for round_index in range(args.rounds):
            # Alternate which half of a round goes first, so drift in the machine's load cancels.
            for publishing in ([False, True] if round_index % 2 == 0 else [True, False]):
                torch.manual_seed(round_index)
                model = Net()
                optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
                if not publishing:
                    without.append(loop(model, optimizer, x, y, args.steps))
                    continue
                publisher = i2x.Publisher(endpoint, run=f"{placement}-{round_index}", model=model,
                                          input_shape=(1, 28, 28), probe=probe, classes=CLASSES,
                                          out=os.path.join(work, f"run-{round_index}"))
                if placement == "analysis-off":
                    os.kill(daemon.pid, signal.SIGSTOP)
                try:
                    with_publishing.append(loop(model, optimizer, x, y, args.steps, publisher, calls=calls))
                finally:
                    if placement == "analysis-off":
                        os.kill(daemon.pid, signal.SIGCONT)
                publisher.close(timeout=60)
                queue.append(i2x.Client(endpoint).status()["queue_depth"])
                # Let the analyses finish so the other half never runs beside them.
                deadline = time.time() + 120
                while time.time() < deadline and i2x.Client(endpoint).status()["queue_depth"] > 0:
                    time.sleep(0.5)
    finally:
        daemon.terminate()
        try:
            daemon.wait(10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        shutil.rmtree(work, ignore_errors=True)
        os.sched_setaffinity(0, set(cpus))
    base, published = statistics.median(without), statistics.median(with_publishing)
    call = statistics.median(calls)
    # The training thread's own cost: one publish call per 100 steps of 64 images at `base` images/s.
    return {
        "benchmark": "python-publish-overhead", "placement": placement, "steps": args.steps, "batch": 64,
        "publish_every": 100, "torch_threads": torch.get_num_threads(), "images_per_second_without": round(base, 1),
        "images_per_second_with": round(published, 1), "slowdown_percent": round(100 * (1 - published / base), 2),
        "rounds_without": [round(v, 1) for v in without], "rounds_with": [round(v, 1) for v in with_publishing],
        "queue_depth_after_publishing": queue, "publish_call_ms_median": round(call * 1000, 2),
        "publish_call_ms_max": round(max(calls) * 1000, 2),
        "publish_call_percent_of_100_steps": round(100 * call / (100 * 64 / base), 3),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--placement", choices=["analysis-off", "other-cores", "same-cores", "all"], default="all")
    args = parser.parse_args()
    bin_dir = os.environ.get("I2X_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "release"))
    for placement in (["analysis-off", "other-cores", "same-cores"] if args.placement == "all" else [args.placement]):
        result = measure(placement, args, bin_dir)
        if result is not None:
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
