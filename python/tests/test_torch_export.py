"""The architecture exporter against real torch modules, checked by the daemon's verify query."""

import json

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import i2x
import i2x.torch
from conftest import CLASSES, probe
from models import SmallCNN, every_layer, randomise


def register(daemon, architecture, input_shape, classes):
    """Registers ``architecture`` without verifying (the tests call verify_logits themselves)."""
    images, labels = probe(count=classes, shape=input_shape, classes=classes)
    pub = i2x.Publisher(daemon.endpoint, run="x", architecture=architecture, probe=(images, labels),
                        classes=[f"k{i}" for i in range(classes)], out=None, verify=False)
    assert pub.close(timeout=10) == 0 and not pub.refused, pub.refused


def test_every_supported_layer_exports_and_matches_torch(daemon, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(1)
    model = randomise(every_layer())
    architecture = i2x.torch.architecture(model, (3, 16, 16))
    assert [(l["kind"], l["name"]) for l in architecture["layers"]] == [
        ("conv2d", "0"), ("relu", "1"), ("conv2d", "2"), ("batchnorm2d", "3"), ("relu", "4"), ("maxpool2d", "5"),
        ("residual", "6"), ("gap", "8"), ("flatten", "9"), ("dropout", "10"), ("linear", "11")]
    assert architecture["layers"][2] == {"kind": "conv2d", "name": "2", "in": 8, "out": 8, "kernel": 3, "stride": 2,
                                         "padding": 1, "bias": False}
    assert [l["name"] for l in architecture["layers"][6]["layers"]] == ["6.body.0", "6.body.1", "6.body.2"]
    assert architecture["layers"][9]["p"] == 0.25
    assert architecture["target"] == "6"  # the last block is the residual one
    register(daemon, architecture, (3, 16, 16), 4)
    images = np.random.default_rng(0).random((8, 3, 16, 16), dtype=np.float32)
    assert i2x.torch.verify_logits(model, daemon.endpoint, "x", images, architecture) < 1e-4


def test_functional_forward_exports_with_the_last_conv_block_as_target(daemon, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(2)
    model = randomise(SmallCNN())
    architecture = i2x.torch.architecture(model, (1, 28, 28))
    kinds = [l["kind"] for l in architecture["layers"]]
    assert kinds == ["conv2d", "batchnorm2d", "relu", "maxpool2d", "conv2d", "relu", "maxpool2d", "conv2d", "relu",
                     "gap", "flatten", "linear"]
    assert architecture["target"] == "relu3" and architecture["classes"] == 10
    register(daemon, architecture, (1, 28, 28), 10)
    images = np.random.default_rng(1).random((16, 1, 28, 28), dtype=np.float32)
    assert i2x.torch.verify_logits(model, daemon.endpoint, "x", images, architecture) < 1e-4
    # The exporter leaves the model's mode alone.
    model.train()
    i2x.torch.architecture(model, (1, 28, 28))
    assert model.training


def test_explicit_target_and_bad_target():
    model = SmallCNN()
    assert i2x.torch.architecture(model, (1, 28, 28), target="conv2")["target"] == "conv2"
    with pytest.raises(i2x.I2XError) as error:
        i2x.torch.architecture(model, (1, 28, 28), target="fc")
    assert error.value.code == "usage" and "relu3" in error.value.message


class Branching(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1)
        self.fc = nn.Linear(1, 2)

    def forward(self, x):
        x = x + self.conv(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


@pytest.mark.parametrize("module, named", [
    (nn.Sequential(nn.Conv2d(1, 4, 3), nn.LeakyReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)),
     "layer '1' (LeakyReLU)"),
    (nn.Sequential(nn.Conv2d(2, 4, 3, groups=2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)),
     "layer '0' (Conv2d)"),
    (nn.Sequential(nn.Conv2d(1, 4, 3), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)),
     "layer '1' (AvgPool2d)"),
    (nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4, eps=1e-3), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                   nn.Linear(4, 2)), "eps 0.001"),
    (nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                   nn.Linear(4, 2)), "layer '1' (MaxPool2d)"),
    (nn.Sequential(nn.Conv2d(1, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2), nn.Softmax(1)),
     "layer '4' (Softmax)"),
    (Branching(), "i2x.torch.Residual"),
])
def test_unsupported_layers_are_named(module, named):
    channels = 2 if isinstance(module, nn.Sequential) and module[0].in_channels == 2 else 1
    with pytest.raises(i2x.I2XError) as error:
        i2x.torch.architecture(module, (channels, 8, 8))
    assert error.value.code == "unsupported-layer"
    assert named in error.value.message, error.value.message


def test_gelu_function_is_named():
    class Gelu(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = nn.Conv2d(1, 2, 3), nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(F.gelu(self.conv(x)).mean((2, 3)))

    with pytest.raises(i2x.I2XError) as error:
        i2x.torch.architecture(Gelu(), (1, 8, 8))
    assert "gelu" in error.value.message


def test_a_wrong_architecture_is_caught_by_verify(daemon, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(3)
    model = randomise(SmallCNN())
    architecture = i2x.torch.architecture(model, (1, 28, 28))
    wrong = json.loads(json.dumps(architecture))
    wrong["layers"] = [l for l in wrong["layers"] if l["name"] != "relu_1"]  # i2x would skip one ReLU
    register(daemon, wrong, (1, 28, 28), 10)
    images = np.random.default_rng(2).random((4, 1, 28, 28), dtype=np.float32)
    with pytest.raises(i2x.I2XError) as error:
        i2x.torch.verify_logits(model, daemon.endpoint, "x", images, architecture)
    assert error.value.code == "mismatch" and "differ" in error.value.message


def test_publisher_refuses_to_start_on_a_mismatch(daemon, tmp_path, monkeypatch):
    """A forward that the tracer sees but i2x cannot express is refused before training."""
    monkeypatch.chdir(tmp_path)

    class Scaled(SmallCNN):
        def forward(self, x):
            return super().forward(x) * 2

    with pytest.raises(i2x.I2XError) as error:
        i2x.Publisher(daemon.endpoint, run="s", model=Scaled(), input_shape=(1, 28, 28), probe=probe(),
                      classes=CLASSES)
    assert error.value.code == "unsupported-layer" and "mul" in error.value.message
