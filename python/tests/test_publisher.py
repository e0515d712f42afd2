"""Publisher against the real i2xd: register, publish, duplicate, conflict, outages, drains."""

import json
import os
import subprocess

import numpy as np
import pytest
import torch

import i2x
from conftest import CLASSES, binary, free_port, probe
from models import SmallCNN, randomise


def make_publisher(endpoint, out, model=None, **kwargs):
    model = model or randomise(SmallCNN())
    return i2x.Publisher(endpoint, run=kwargs.pop("run", "r1"), model=model, input_shape=(1, 28, 28), probe=probe(),
                         classes=CLASSES, out=str(out), timeout=kwargs.pop("timeout", 1.0), **kwargs)


def test_register_publish_duplicate_and_conflict(daemon, tmp_path):
    torch.manual_seed(0)
    model = randomise(SmallCNN())
    pub = make_publisher(daemon.endpoint, tmp_path / "run", model)
    assert pub.publish(model, step=10, epoch=0, metrics={"loss": 2.5})
    assert pub.publish(model, step=10, epoch=0, metrics={"loss": 2.5})  # the same bytes again: duplicate
    with torch.no_grad():
        model.fc.bias.add_(1.0)
    assert pub.publish(model, step=10, epoch=0, metrics={"loss": 2.5})  # other bytes, same step: conflict
    assert pub.publish(model, step=20, epoch=1, metrics={"loss": 1.5}, final=True)
    assert pub.close(timeout=20) == 0
    rows = daemon.client().checkpoints("r1")
    assert [(r["step"], r["epoch"], r["metrics"]) for r in rows] == [(10, 0, {"loss": 2.5}), (20, 1, {"loss": 1.5})]
    # The conflicting step is kept with the daemon's reason, not raised.
    assert len(pub.refused) == 1 and pub.refused[0][1].startswith("conflict:")
    rejected = i2x.Outbox(str(tmp_path / "run" / "outbox")).rejected()
    assert [(e["kind"], e["step"]) for e, _ in rejected] == [("checkpoint", 10)]
    assert rejected[0][1].startswith("conflict:")
    runs = daemon.client().runs()
    assert runs[0]["name"] == "r1" and runs[0]["probe_count"] == 20 and runs[0]["classes"] == CLASSES


def test_events_follow_the_published_checkpoints(daemon, tmp_path):
    torch.manual_seed(0)
    model = randomise(SmallCNN())
    pub = make_publisher(daemon.endpoint, tmp_path / "run", model, run="ev")
    for step in (10, 20, 30):
        assert pub.publish(model, step=step, epoch=0, metrics={"loss": 3.0 - step / 10})
    assert pub.close(timeout=20) == 0
    client = daemon.client()
    page = client.events("ev", limit=2)
    assert [(e["kind"], e["step"]) for e in page["events"]] == [("checkpoint", 10), ("checkpoint", 20)]
    assert page["more"] is True and page["cursor"] == page["events"][-1]["id"]
    assert page["events"][0]["detail"]["metrics"] == {"loss": 2.0}
    rest = client.events("ev", after=page["cursor"])
    assert ("checkpoint", 30) in [(e["kind"], e["step"]) for e in rest["events"]]
    assert all(e["id"] > page["cursor"] for e in rest["events"])
    with pytest.raises(i2x.I2XError) as refused:
        client.events("no-such-run")
    assert refused.value.code == "unknown-run"


def test_published_file_is_an_i2x_checkpoint(daemon, tmp_path):
    model = randomise(SmallCNN())
    pub = make_publisher(daemon.endpoint, tmp_path / "run", model)
    pub.close(timeout=10)
    # Stop the sender first so the entry stays on disk for inspection.
    outbox = pub.outbox
    pub2 = make_publisher("tcp://127.0.0.1:%d" % free_port(), tmp_path / "run", model, verify=False)
    pub2.publish(model, step=3, epoch=1, metrics={"acc": 0.5})
    pub2.close(timeout=0)
    sequences = outbox.pending()
    entry, payload = outbox.read(sequences[-1])
    assert entry == {"kind": "checkpoint", "run": "r1", "step": 3, "epoch": 1, "metrics": {"acc": 0.5}}
    from safetensors.numpy import load
    import safetensors

    tensors = load(payload)
    assert sorted(tensors) == sorted(model.state_dict())
    assert np.array_equal(tensors["conv1.weight"], model.conv1.weight.detach().numpy())
    header_length = int.from_bytes(payload[:8], "little")
    metadata = json.loads(payload[8:8 + header_length])["__metadata__"]
    assert metadata["i2x.run"] == "r1" and metadata["i2x.step"] == "3"
    assert json.loads(metadata["i2x.architecture"])["target"] == "relu3"


def test_daemon_down_then_drained_by_python(daemon_factory, tmp_path):
    port = free_port()
    model = randomise(SmallCNN())
    pub = make_publisher(f"tcp://127.0.0.1:{port}", tmp_path / "run", model, verify_timeout=0.5)
    for step in (100, 200, 300):
        assert pub.publish(model, step=step, metrics={"loss": 1.0})
    assert pub.close(timeout=0.5) == 4  # register-run + 3 checkpoints, waiting
    daemon = daemon_factory(port)
    assert i2x.drain(str(tmp_path / "run"), daemon.endpoint, timeout=20) == 0
    assert [r["step"] for r in daemon.client().checkpoints("r1")] == [100, 200, 300]


def test_python_outbox_drained_by_i2x_train(daemon_factory, tmp_path):
    port = free_port()
    model = randomise(SmallCNN())
    pub = make_publisher(f"tcp://127.0.0.1:{port}", tmp_path / "run", model, verify_timeout=0.2)
    pub.publish(model, step=5, metrics={"loss": 0.5})
    pub.publish(model, step=6, metrics={"loss": 0.25}, final=True)
    assert pub.close(timeout=0.2) == 3
    daemon = daemon_factory(port)
    result = subprocess.run(
        [binary("i2x-train"), "drain", "--out", str(tmp_path / "run"), "--endpoint", daemon.endpoint, "--timeout", "20"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "sent 3 of 3" in result.stdout
    rows = daemon.client().checkpoints("r1")
    assert [(r["step"], r["metrics"]) for r in rows] == [(5, {"loss": 0.5}), (6, {"loss": 0.25})]


def test_swift_outbox_drained_by_python(daemon_factory, tmp_path):
    dead = f"tcp://127.0.0.1:{free_port()}"
    out = tmp_path / "swift-run"
    trained = subprocess.run(
        [binary("i2x-train"), "train", "--dataset", "synthetic", "--arch", "smallcnn", "--epochs", "1", "--batch", "50",
         "--validation-size", "200", "--probe-per-class", "2", "--generator-size", "100", "--run", "swift",
         "--publish", dead, "--publish-every", "20", "--drain-timeout", "0", "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    assert trained.returncode != 0 or True  # pending entries are not an error of the training itself
    left = i2x.Outbox(str(out / "outbox")).pending()
    assert len(left) >= 2, trained.stderr[-2000:]
    first, _ = i2x.Outbox(str(out / "outbox")).read(left[0])
    assert first["kind"] == "register-run" and first["run"] == "swift"
    daemon = daemon_factory()
    assert i2x.drain(str(out), daemon.endpoint, timeout=30) == 0
    rows = daemon.client().checkpoints("swift")
    # The initial weights are published as step 0.
    assert len(rows) == len(left) - 1 and sorted(r["step"] for r in rows)[0] == 0


def test_daemon_restart_mid_run(daemon_factory, tmp_path):
    port = free_port()
    daemon = daemon_factory(port)
    model = randomise(SmallCNN())
    pub = make_publisher(daemon.endpoint, tmp_path / "run", model)
    pub.publish(model, step=1)
    assert pub._sender.drain(10) == 0
    daemon.stop()
    pub.publish(model, step=2)  # queued while the daemon is down; never raises
    restarted = daemon_factory(port, daemon.data_dir)
    assert pub.close(timeout=20) == 0
    assert [r["step"] for r in restarted.client().checkpoints("r1")] == [1, 2]


def test_full_outbox_skips_but_keeps_the_final_checkpoint(tmp_path):
    model = randomise(SmallCNN())
    pub = make_publisher(f"tcp://127.0.0.1:{free_port()}", tmp_path / "run", model, verify=False,
                         max_outbox_bytes=50_000)  # probe 16 kB + one 17 kB checkpoint fit, two do not
    results = [pub.publish(model, step=s) for s in (1, 2, 3)]
    assert results == [True, False, False] and pub.skipped == 2
    assert pub.publish(model, step=4, final=True)
    assert pub.close(timeout=0) == 3
    steps = [pub.outbox.read(s)[0].get("step") for s in pub.outbox.pending()]
    assert steps == [None, 1, 4]


def test_directives_reach_the_loop_and_statuses_the_daemon(daemon, tmp_path):
    received = []
    model = randomise(SmallCNN())
    pub = make_publisher(daemon.endpoint, tmp_path / "run", model, on_directive=received.append)
    for step in (1, 2, 3):
        with torch.no_grad():
            model.fc.bias.add_(0.1)
        pub.publish(model, step=step)
    assert pub._sender.drain(10) == 0
    daemon.wait_for_analysis("r1", 3)
    reply = daemon.client().finetune("r1", ["c0", "c1"], prototypes=[0])
    assert reply.get("directive") or reply
    deadline = __import__("time").monotonic() + 15
    directives = []
    while not directives and __import__("time").monotonic() < deadline:
        directives = pub.directives()
        __import__("time").sleep(0.1)
    assert len(directives) == 1 and directives[0].kind == "finetune"
    assert received == directives
    assert pub.directives() == []  # each directive once
    pub.report(directives[0], "failed", reason="not executed: the Python publisher does not run fine-tunes")
    assert pub.close(timeout=10) == 0
    rows = daemon.client().directives("r1")["directives"]
    assert rows[0]["state"] == "failed" and "Python" in rows[0].get("reason", "")
