"""Hostile and malformed inputs from the Python side: clear errors, the daemon keeps serving."""

import numpy as np
import pytest
import zmq

import i2x
from i2x import wire
from i2x.safetensors_file import serialize
from conftest import CLASSES, free_port, probe
from models import SmallCNN, randomise


def raw(endpoint, frames, timeout=3000):
    socket = zmq.Context.instance().socket(zmq.REQ)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(endpoint)
    try:
        socket.send_multipart(frames)
        assert socket.poll(timeout), "no reply"
        return wire.Message.parse(socket.recv_multipart())
    finally:
        socket.close()


def test_malformed_frames_get_error_replies(daemon):
    cases = [
        ([b"XYZ\x01\x05", b"{}"], "bad-data"),
        ([b"I2X\x09\x05", b"{}"], "unsupported-version"),
        ([b"I2X\x01\x63", b"{}"], "unknown-type"),
        ([b"I2X\x01\x05", b"not json"], "bad-data"),
        ([b"I2X\x01\x05", b"[1,2]"], "bad-data"),
        ([b"I2X\x01\x05", b'{"query": 7}'], "bad-data"),
        ([b"I2X\x01\x05", b'{"query":"nope"}'], "unknown-query"),
        ([b"I2X\x01\x02", b'{"run":"r","step":1,"epoch":0,"sha256":"00","metrics":{}}', b"junk"], "bad-data"),
    ]
    for frames, code in cases:
        reply = raw(daemon.endpoint, frames)
        assert reply.type == wire.ERROR and reply.header["code"] == code, (frames, reply.header)
    assert daemon.client().status()["runs"] == 0


def test_hostile_verify_payloads(daemon, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = randomise(SmallCNN())
    pub = i2x.Publisher(daemon.endpoint, run="r", model=model, input_shape=(1, 28, 28), probe=probe(), classes=CLASSES)
    pub.close(timeout=5)
    client = daemon.client()
    weights = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    with pytest.raises(i2x.I2XError) as error:
        client.verify("r", weights, np.zeros((65, 1, 28, 28), np.float32))
    assert error.value.code == "bad-data" and "64" in error.value.message
    with pytest.raises(i2x.I2XError) as error:
        client.verify("r", weights, np.zeros((1, 3, 28, 28), np.float32))
    assert error.value.code == "bad-data"
    truncated = serialize({"i2x.verify.images": np.zeros((1, 1, 28, 28), np.float32)})[:-10]
    with pytest.raises(i2x.I2XError) as error:
        client.query("verify", "r", payload=truncated)
    assert error.value.code == "bad-data"
    with pytest.raises(i2x.I2XError) as error:
        client.verify("ghost", weights, np.zeros((1, 1, 28, 28), np.float32))
    assert error.value.code == "unknown-run"
    assert client.status()["runs"] == 1


def test_nan_weights_and_odd_metrics_are_refused_or_dropped_without_raising(daemon, tmp_path):
    model = randomise(SmallCNN())
    pub = i2x.Publisher(daemon.endpoint, run="r", model=model, input_shape=(1, 28, 28), probe=probe(),
                        classes=CLASSES, out=str(tmp_path / "o"))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["fc.bias"][0] = float("nan")
    assert pub.publish(state, step=1, metrics={"loss": float("inf"), "name": "text", "ok": 1})
    assert pub.publish(model, step=2, metrics={"loss": float("nan"), "ok": 2})
    assert pub.publish({"bogus": np.zeros(3, np.float32)}, step=3)
    assert pub.close(timeout=10) == 0
    assert [r["step"] for r in daemon.client().checkpoints("r")] == [2]
    assert daemon.client().checkpoints("r")[0]["metrics"] == {"ok": 2}
    reasons = [reason for _, reason in pub.refused]
    assert len(reasons) == 2 and all(r.startswith("bad-data:") for r in reasons)
    assert "fc.bias" in reasons[0] and "non-finite" in reasons[0]


def test_bad_runs_probes_and_endpoints_are_clear_errors(daemon, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = SmallCNN()
    for run in ("bad\nname", "x" * 300):
        with pytest.raises(i2x.I2XError) as error:
            i2x.Publisher(daemon.endpoint, run=run, model=model, input_shape=(1, 28, 28), probe=probe(),
                          classes=CLASSES)
        assert error.value.code == "bad-data" and "run names" in error.value.message
    normalised = probe()[0].astype(np.float32) / 255 * 4 - 2
    with pytest.raises(i2x.I2XError) as error:
        i2x.Publisher(daemon.endpoint, run="n", model=model, input_shape=(1, 28, 28),
                      probe=(normalised, probe()[1]), classes=CLASSES)
    assert error.value.code == "usage" and "[0, 1]" in error.value.message
    with pytest.raises(i2x.I2XError) as error:
        i2x.Publisher(daemon.endpoint, run="n", model=model, input_shape=(1, 28, 28), probe=probe(), classes=["a"])
    assert error.value.code == "usage"
    for endpoint in ("tcp://127.0.0.1:99999", "garbage"):
        with pytest.raises(i2x.I2XError) as error:
            i2x.Client(endpoint)
        assert error.value.code == "usage"


def test_client_errors_carry_the_daemon_code(daemon):
    client = daemon.client()
    with pytest.raises(i2x.I2XError) as error:
        client.checkpoints("ghost")
    assert error.value.code == "unknown-run" and "ghost" in error.value.message
    with pytest.raises(i2x.DaemonUnavailable) as error:
        i2x.Client(f"tcp://127.0.0.1:{free_port()}", timeout=0.2, retries=2).status()
    assert error.value.code == "unavailable"
