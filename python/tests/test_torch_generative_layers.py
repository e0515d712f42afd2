"""The exporter's decoder layers (nn.Upsample nearest, nn.Sigmoid, nn.SiLU, nn.Unflatten) against
real torch modules, and the daemon's verify query on a classifier that uses all four."""

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import i2x
import i2x.torch
from models import randomise
from test_torch_export import register


def decoder_like_classifier() -> nn.Sequential:
    """[1,8,8] → flatten → unflatten → conv → SiLU → ×2 → conv → Sigmoid → gap → fc: every new kind."""
    return nn.Sequential(
        nn.Flatten(), nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 4, 3, padding=1), nn.SiLU(),
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(4, 4, 3, padding=1), nn.Sigmoid(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))


def test_decoder_layers_export_with_their_fields():
    architecture = i2x.torch.architecture(decoder_like_classifier(), (1, 8, 8))
    assert [(l["kind"], l["name"]) for l in architecture["layers"]] == [
        ("flatten", "0"), ("unflatten", "1"), ("conv2d", "2"), ("silu", "3"), ("upsample", "4"), ("conv2d", "5"),
        ("sigmoid", "6"), ("gap", "7"), ("flatten", "8"), ("linear", "9")]
    assert architecture["layers"][1] == {"kind": "unflatten", "name": "1", "shape": [1, 8, 8]}
    assert architecture["layers"][4] == {"kind": "upsample", "name": "4", "scale": 2}


def test_unflatten_resolves_a_minus_one_and_functions_map_too():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.unflatten, self.conv, self.fc = nn.Unflatten(1, (-1, 8, 8)), nn.Conv2d(2, 2, 3), nn.Linear(2, 2)

        def forward(self, x):
            x = torch.sigmoid(F.silu(self.conv(self.unflatten(torch.flatten(x, 1)))))
            return self.fc(x.mean((2, 3)))

    layers = i2x.torch.architecture(Functional(), (2, 8, 8))["layers"]
    assert layers[1] == {"kind": "unflatten", "name": "unflatten", "shape": [2, 8, 8]}
    assert [l["kind"] for l in layers[3:5]] == ["silu", "sigmoid"]


@pytest.mark.parametrize("upsample, reason", [
    (nn.Upsample(scale_factor=2, mode="bilinear"), "mode 'bilinear'"),
    (nn.Upsample(scale_factor=1.5, mode="nearest"), "scale_factor 1.5"),
    (nn.Upsample(scale_factor=32, mode="nearest"), "from 1 to 16"),
    (nn.Upsample(size=(8, 8), mode="nearest"), "an output size"),
])
def test_unsupported_upsampling_is_named(upsample, reason):
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), upsample, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(2, 2))
    with pytest.raises(i2x.I2XError) as error:
        i2x.torch.architecture(model, (1, 4, 4))
    assert error.value.code == "unsupported-layer"
    assert "layer '1' (Upsample)" in error.value.message and reason in error.value.message, error.value.message


def test_unflatten_into_two_dimensions_is_refused():
    model = nn.Sequential(nn.Flatten(), nn.Unflatten(1, (4, 16)), nn.Flatten(), nn.Linear(64, 2))
    with pytest.raises(i2x.I2XError) as error:
        i2x.torch.architecture(model, (1, 8, 8))
    assert "layer '1' (Unflatten)" in error.value.message and "(C, H, W)" in error.value.message


def test_decoder_layers_match_torch_through_the_daemon(daemon, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(4)
    model = randomise(decoder_like_classifier())
    architecture = i2x.torch.architecture(model, (1, 8, 8))
    register(daemon, architecture, (1, 8, 8), 3)
    images = np.random.default_rng(3).random((8, 1, 8, 8), dtype=np.float32)
    assert i2x.torch.verify_logits(model, daemon.endpoint, "x", images, architecture) < 1e-4
