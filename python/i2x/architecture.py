"""Facts about ``i2x.architecture/1`` JSON that need no torch (Sources/Models/LayerSpec.swift)."""

from __future__ import annotations

FORMAT = "i2x.architecture/1"

#: Layer kinds the engine builds.
KINDS = ("conv2d", "batchnorm2d", "relu", "maxpool2d", "gap", "flatten", "linear", "dropout", "residual", "upsample",
         "sigmoid", "silu", "unflatten")


def tensor_names(architecture: dict) -> list:
    """The ``state_dict`` names a checkpoint of ``architecture`` holds, in layer order
    (``conv1.weight``, ``bn1.running_mean``, …; ``num_batches_tracked`` included)."""
    names = []

    def visit(layers):
        for layer in layers:
            kind, name = layer.get("kind"), layer.get("name")
            if kind in ("conv2d", "linear"):
                names.append(f"{name}.weight")
                if layer.get("bias", True):
                    names.append(f"{name}.bias")
            elif kind == "batchnorm2d":
                names.extend(f"{name}.{s}" for s in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"))
            elif kind == "residual":
                visit(layer.get("layers") or [])

    visit(architecture.get("layers") or [])
    return names
