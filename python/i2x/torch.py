"""PyTorch side of the bridge: the architecture exporter, the residual block and the logits check.

``architecture(model, input_shape)`` traces ``model.forward`` with ``torch.fx`` and maps each
step to an ``i2x.architecture/1`` layer (Sources/Models/LayerSpec.swift):

==========================================================  ===============
PyTorch                                                     i2x kind
==========================================================  ===============
``nn.Conv2d`` (square kernel/stride/padding, groups 1,      ``conv2d``
dilation 1, zero padding)
``nn.BatchNorm2d`` (affine, running stats, eps 1e-5)        ``batchnorm2d``
``nn.ReLU``, ``F.relu``, ``torch.relu``, ``x.relu()``       ``relu``
``nn.MaxPool2d``, ``F.max_pool2d`` (square, no padding,     ``maxpool2d``
floor mode)
``nn.AdaptiveAvgPool2d(1)``, ``F.adaptive_avg_pool2d(x,     ``gap``
1)``, ``x.mean((2, 3))``
``nn.Flatten``, ``torch.flatten(x, 1)``, ``x.view(n, -1)``  ``flatten``
``nn.Linear``                                               ``linear``
``nn.Dropout``, ``F.dropout``                               ``dropout``
``i2x.torch.Residual(*layers)`` (``x + body(x)``)           ``residual``
``nn.Upsample(scale_factor=s, mode='nearest')`` (integer    ``upsample``
s, 1 ≤ s ≤ 16)
``nn.Sigmoid``, ``torch.sigmoid``, ``x.sigmoid()``          ``sigmoid``
``nn.SiLU``, ``F.silu``                                     ``silu``
``nn.Unflatten(1, (C, H, W))``                              ``unflatten``
``nn.Identity``                                             (dropped)
==========================================================  ===============

Layer names are the modules' qualified names, which are the ``state_dict`` prefixes, so
PyTorch's tensors load unchanged. Anything else raises :class:`i2x.I2XError` (code
``unsupported-layer``) naming the module or function.
"""

from __future__ import annotations

import json
import operator
from typing import Optional, Sequence

import numpy as np
import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F

from .architecture import FORMAT, tensor_names
from .errors import I2XError

__all__ = ["Residual", "architecture", "verify_logits"]

#: Relative tolerance of the logits check: |i2x − torch| ≤ TOLERANCE · max(1, max |torch|).
TOLERANCE = 1e-4


class Residual(nn.Module):
    """A residual block ``out = x + body(x)``; the body must keep the shape.

    Exported as one ``residual`` layer whose branch holds ``body``'s layers (named
    ``<name>.body.<i>``, as in the ``state_dict``).
    """

    def __init__(self, *layers: nn.Module):
        super().__init__()
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.body(x)


class _Tracer(torch.fx.Tracer):
    def is_leaf_module(self, module, qualified_name):
        return isinstance(module, Residual) or super().is_leaf_module(module, qualified_name)


def _unsupported(what: str, why: str = "") -> I2XError:
    return I2XError(
        "unsupported-layer",
        f"{what} is not supported by i2x{': ' + why if why else ''}. Supported: Conv2d, BatchNorm2d, ReLU, "
        "MaxPool2d, AdaptiveAvgPool2d(1), Flatten, Linear, Dropout, Upsample (nearest, integer scale), Sigmoid, "
        "SiLU, Unflatten(1, (C, H, W)), i2x.torch.Residual (and nn.Identity)",
    )


def _square(value, what: str, field: str) -> int:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(set(values)) != 1:
        raise _unsupported(what, f"{field} {values} is not square")
    return int(values[0])


def _module_layer(name: str, module: nn.Module, shape_in: tuple) -> Optional[dict]:
    """The layer dict of one module call (None for a no-op)."""
    what = f"layer '{name}' ({type(module).__name__})"
    if isinstance(module, nn.Conv2d):
        if module.groups != 1 or _square(module.dilation, what, "dilation") != 1:
            raise _unsupported(what, "grouped or dilated convolution")
        if module.padding_mode != "zeros":
            raise _unsupported(what, f"padding_mode '{module.padding_mode}'")
        kernel = _square(module.kernel_size, what, "kernel_size")
        stride = _square(module.stride, what, "stride")
        padding = module.padding
        if padding == "valid":
            padding = 0
        elif padding == "same":
            if kernel % 2 == 0 or stride != 1:
                raise _unsupported(what, "padding='same' with an even kernel or a stride")
            padding = kernel // 2
        return {
            "kind": "conv2d", "name": name, "in": module.in_channels, "out": module.out_channels, "kernel": kernel,
            "stride": stride, "padding": _square(padding, what, "padding"), "bias": module.bias is not None,
        }
    if isinstance(module, nn.BatchNorm2d):
        if not module.affine or not module.track_running_stats:
            raise _unsupported(what, "BatchNorm2d needs affine=True and track_running_stats=True")
        if abs(module.eps - 1e-5) > 1e-12:
            raise _unsupported(what, f"eps {module.eps} (i2x's BatchNorm2d uses 1e-5)")
        return {"kind": "batchnorm2d", "name": name, "channels": module.num_features}
    if isinstance(module, nn.ReLU):
        return {"kind": "relu", "name": name}
    if isinstance(module, nn.MaxPool2d):
        return _max_pool(name, what, module.kernel_size, module.stride, module.padding, module.dilation,
                         module.ceil_mode, module.return_indices)
    if isinstance(module, nn.AdaptiveAvgPool2d):
        if _square(module.output_size, what, "output_size") != 1:
            raise _unsupported(what, f"output_size {module.output_size} (only 1, global average pooling)")
        return {"kind": "gap", "name": name}
    if isinstance(module, nn.Flatten):
        if module.start_dim != 1 or module.end_dim != -1:
            raise _unsupported(what, "Flatten must flatten dims 1..-1")
        return {"kind": "flatten", "name": name}
    if isinstance(module, nn.Linear):
        if len(shape_in) != 2:
            raise _unsupported(what, f"Linear on a {len(shape_in)}-D input {list(shape_in)}; flatten first")
        return {"kind": "linear", "name": name, "in": module.in_features, "out": module.out_features,
                "bias": module.bias is not None}
    if type(module) is nn.Dropout:
        return {"kind": "dropout", "name": name, "p": float(module.p)}
    if isinstance(module, nn.Identity):
        return None
    if isinstance(module, nn.Upsample):
        return _upsample(name, what, module, shape_in)
    if isinstance(module, nn.Sigmoid):
        return {"kind": "sigmoid", "name": name}
    if isinstance(module, nn.SiLU):
        return {"kind": "silu", "name": name}
    if isinstance(module, nn.Unflatten):
        return _unflatten(name, what, module, shape_in)
    if isinstance(module, Residual):
        return {"kind": "residual", "name": name, "layers": _body_layers(f"{name}.body", module.body, shape_in)}
    raise _unsupported(what)


#: Largest integer scale an ``upsample`` layer accepts (``LayerSpec.maximumScale``).
MAXIMUM_SCALE = 16


def _upsample(name: str, what: str, module: nn.Upsample, shape_in: tuple) -> dict:
    if module.mode != "nearest":
        raise _unsupported(what, f"mode '{module.mode}' (only 'nearest')")
    if module.size is not None or module.scale_factor is None:
        raise _unsupported(what, "an output size; give an integer scale_factor instead")
    if len(shape_in) != 4:
        raise _unsupported(what, f"upsampling a {len(shape_in)}-D input {list(shape_in)} (only (N, C, H, W))")
    factors = tuple(module.scale_factor) if isinstance(module.scale_factor, (tuple, list)) else (module.scale_factor,)
    if len(set(factors)) != 1:
        raise _unsupported(what, f"scale_factor {factors} differs between height and width")
    factor = float(factors[0])
    if not factor.is_integer() or not 1 <= factor <= MAXIMUM_SCALE:
        raise _unsupported(what, f"scale_factor {factors[0]} (only an integer from 1 to {MAXIMUM_SCALE})")
    scale = int(factor)
    return {"kind": "upsample", "name": name, "scale": scale}


def _unflatten(name: str, what: str, module: nn.Unflatten, shape_in: tuple) -> dict:
    if len(shape_in) != 2 or module.dim not in (1, -1):
        raise _unsupported(what, f"only Unflatten(1, (C, H, W)) of [N, features], got dim {module.dim} of "
                                 f"{list(shape_in)}")
    shape = [int(s) for s in module.unflattened_size]
    if len(shape) != 3:
        raise _unsupported(what, f"unflattened_size {shape} (only three sizes (C, H, W))")
    if shape.count(-1) == 1:
        known = int(np.prod([s for s in shape if s != -1]))
        shape[shape.index(-1)] = int(shape_in[1]) // known if known > 0 else 0
    if any(s <= 0 for s in shape) or int(np.prod(shape)) != int(shape_in[1]):
        raise _unsupported(what, f"unflattened_size {list(module.unflattened_size)} for {shape_in[1]} features")
    return {"kind": "unflatten", "name": name, "shape": shape}


def _max_pool(name, what, kernel, stride, padding, dilation, ceil_mode, return_indices) -> dict:
    kernel = _square(kernel, what, "kernel_size")
    stride = kernel if stride is None or stride == () else _square(stride, what, "stride")
    if _square(padding, what, "padding") != 0 or _square(dilation, what, "dilation") != 1:
        raise _unsupported(what, "max pooling with padding or dilation")
    if ceil_mode or return_indices:
        raise _unsupported(what, "ceil_mode or return_indices")
    return {"kind": "maxpool2d", "name": name, "kernel": kernel, "stride": stride}


def _body_layers(prefix: str, body: nn.Sequential, shape_in: tuple) -> list:
    layers = []
    for child_name, child in body.named_children():
        qualified = f"{prefix}.{child_name}"
        if isinstance(child, nn.Sequential):
            layers.extend(_body_layers(qualified, child, shape_in))
            continue
        if isinstance(child, (nn.Linear, nn.Flatten, nn.AdaptiveAvgPool2d, nn.Upsample, nn.Unflatten)):
            raise _unsupported(f"layer '{qualified}' ({type(child).__name__})", "inside a residual body")
        layer = _module_layer(qualified, child, shape_in)
        if layer is not None:
            layers.append(layer)
    if not layers:
        raise _unsupported(f"residual '{prefix}'", "an empty body")
    return layers


_RELU = {F.relu, torch.relu, torch.relu_}


def _function_layer(node: torch.fx.Node, name: str, shape_in: tuple, shape_out: tuple) -> Optional[dict]:
    """The layer of a function or method call on the activation (None for a no-op)."""
    target, args, kwargs = node.target, node.args, node.kwargs
    label = f"'{target.__name__ if callable(target) else target}' ({node.name})"
    if target in _RELU or target in ("relu", "relu_"):
        if kwargs.get("inplace") not in (None, True, False):
            raise _unsupported(label)
        return {"kind": "relu", "name": name}
    if target in (torch.sigmoid, F.sigmoid, "sigmoid"):
        return {"kind": "sigmoid", "name": name}
    if target is F.silu:
        if kwargs.get("inplace") not in (None, True, False):
            raise _unsupported(label)
        return {"kind": "silu", "name": name}
    if target is F.max_pool2d:
        def arg(index, key, default):
            return args[index] if len(args) > index else kwargs.get(key, default)
        return _max_pool(name, f"function {label}", arg(1, "kernel_size", None), arg(2, "stride", None),
                         arg(3, "padding", 0), arg(4, "dilation", 1), arg(5, "ceil_mode", False),
                         arg(6, "return_indices", False))
    if target is F.adaptive_avg_pool2d:
        size = args[1] if len(args) > 1 else kwargs.get("output_size")
        if _square(size, f"function {label}", "output_size") != 1:
            raise _unsupported(f"function {label}", "only output size 1 (global average pooling)")
        return {"kind": "gap", "name": name}
    if target in (torch.mean, "mean"):
        dims = args[1] if len(args) > 1 else kwargs.get("dim")
        dims = tuple(sorted(d % 4 for d in (dims if isinstance(dims, (tuple, list)) else [dims]))) if dims is not None else None
        if len(shape_in) == 4 and dims == (2, 3):
            return {"kind": "gap", "name": name}
        raise _unsupported(f"function {label}", "only the mean over dims (2, 3)")
    if target in (torch.flatten, "flatten", "view", "reshape"):
        if len(shape_out) == 2 and shape_out[0] == shape_in[0] and int(np.prod(shape_in[1:])) == shape_out[1]:
            return {"kind": "flatten", "name": name} if len(shape_in) != 2 else None
        raise _unsupported(f"function {label}", f"only flattening to [N, features], got {list(shape_out)}")
    if target in (F.dropout, "dropout"):
        p = args[1] if len(args) > 1 else kwargs.get("p", 0.5)
        return {"kind": "dropout", "name": name, "p": float(p)}
    if target in ("contiguous",) or target is torch.Tensor.contiguous:
        return None
    raise _unsupported(f"function {label}")


def _trace(model: nn.Module, input_shape: tuple):
    try:
        graph = _Tracer().trace(model)
    except Exception as error:
        raise I2XError(
            "unsupported-layer",
            f"could not trace {type(model).__name__}.forward with torch.fx ({error}); write the model as a chain of "
            "supported layers (data-dependent control flow cannot be exported)",
        ) from None
    module = torch.fx.GraphModule(model, graph)
    from torch.fx.passes.shape_prop import ShapeProp

    training = model.training
    model.eval()
    try:
        parameter = next(model.parameters(), None)
        device = parameter.device if parameter is not None else torch.device("cpu")
        with torch.no_grad():
            ShapeProp(module).propagate(torch.zeros((2, *input_shape), device=device))
    except Exception as error:
        raise I2XError("usage", f"the model does not run on input shape {list(input_shape)}: {error}") from None
    finally:
        model.train(training)
    return graph


def _shape(node) -> tuple:
    meta = node.meta.get("tensor_meta") if isinstance(node, torch.fx.Node) else None
    return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else ()


def architecture(
    model: nn.Module,
    input_shape: Sequence[int],
    target: Optional[str] = None,
    classes: Optional[int] = None,
    name: Optional[str] = None,
) -> dict:
    """The ``i2x.architecture/1`` description of ``model`` (a dict; ``json.dumps`` it for a file).

    Args:
        model: An ``nn.Module`` whose ``forward`` is a chain of supported layers.
        input_shape: One image's (C, H, W).
        target: GradCAM target layer, by module name (e.g. ``features.8``); default: the last
            convolution block's output (its last BatchNorm/ReLU after the last Conv2d or
            Residual), the layer pytorch-grad-cam users pick.
        classes: Expected number of outputs (checked).
        name: Architecture name (default: the model's class name).
    Raises:
        I2XError: ``unsupported-layer`` naming the module or function; ``usage`` for a bad
            target, input shape or class count.
    """
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) != 3:
        raise I2XError("usage", f"input_shape must be (C, H, W), got {list(input_shape)}")
    graph = _trace(model, input_shape)
    modules = dict(model.named_modules())
    layers, current, used_names = [], None, set(modules)
    for node in graph.nodes:
        if node.op == "placeholder":
            if current is not None:
                raise I2XError("usage", "the model's forward takes more than one input")
            current = node
            continue
        if node.op == "output":
            if node.args[0] is not current:
                raise _unsupported("the model's output", "forward must return the last layer's logits (one tensor)")
            break
        first = node.args[0] if node.args else None
        if first is not current:
            if current in node.all_input_nodes:
                raise _unsupported(f"'{node.name}'", "the forward branches; write residual connections with i2x.torch.Residual")
            if node.op in ("call_method", "call_function") and (node.target in ("size", getattr) or node.target is operator.getitem):
                continue  # x.size(0), x.shape[0]: feeds a view
            if node.op == "get_attr":
                raise _unsupported(f"direct use of '{node.target}'", "parameters must belong to supported layers")
            continue
        if node.op in ("call_method", "call_function") and (node.target == "size" or node.target is getattr):
            continue  # x.size(0), x.shape: consumed by a later view
        shape_in, shape_out = _shape(current), _shape(node)
        if node.op == "call_module":
            layer = _module_layer(str(node.target), modules[str(node.target)], shape_in)
        elif node.op in ("call_function", "call_method"):
            unique = node.name if node.name not in used_names else f"{node.name}_fn"
            used_names.add(unique)
            layer = _function_layer(node, unique, shape_in, shape_out)
        else:
            raise _unsupported(f"'{node.name}' ({node.op})")
        if layer is not None:
            # After a gap, torch has [N,C,1,1] and i2x [N,C]; the flatten that follows is an identity in i2x.
            layer["_shape"] = shape_out
            layers.append(layer)
        current = node
    output_shape = _shape(current)
    if len(output_shape) != 2:
        raise _unsupported("the model's output", f"logits must be [N, classes], got {list(output_shape)}")
    outputs = int(output_shape[1])
    if classes is not None and int(classes) != outputs:
        raise I2XError("usage", f"{classes} class names for a model with {outputs} outputs")
    chosen = _target(layers, target, modules)
    for layer in layers:
        layer.pop("_shape", None)
    return {
        "format": FORMAT, "name": name or type(model).__name__, "input": list(input_shape), "classes": outputs,
        "target": chosen, "layers": layers,
    }


def _target(layers: list, requested: Optional[str], modules: dict) -> str:
    maps = [layer for layer in layers if len(layer["_shape"]) == 4]
    if requested is not None:
        names = [layer["name"] for layer in maps]
        if requested not in names:
            raise I2XError(
                "usage", f"target '{requested}' is not a top-level layer with a feature-map output; choose one of: "
                + ", ".join(names))
        return requested
    last = max((i for i, layer in enumerate(layers) if layer["kind"] in ("conv2d", "residual")), default=None)
    if last is None:
        raise I2XError("usage", "the model has no Conv2d or Residual layer to explain; pass target=")
    index = last
    while index + 1 < len(layers) and layers[index + 1]["kind"] in ("batchnorm2d", "relu"):
        index += 1
    return layers[index]["name"]


def verify_logits(model: nn.Module, endpoint: str, run: str, images: np.ndarray, architecture_dict: Optional[dict] = None) -> float:
    """Asks the daemon (``verify`` query) for i2x's logits of ``images`` (F32 [N,C,H,W], N ≤ 64)
    under ``model``'s weights and compares them with PyTorch's (evaluation mode).

    Returns the largest absolute difference. Raises :class:`I2XError` ``mismatch`` when it is
    above ``TOLERANCE · max(1, max |logit|)``, and the daemon's error otherwise.
    """
    from .client import Client

    images = np.ascontiguousarray(images, dtype=np.float32)
    training = model.training
    model.eval()
    try:
        parameter = next(model.parameters(), None)
        device = parameter.device if parameter is not None else torch.device("cpu")
        with torch.no_grad():
            expected = model(torch.from_numpy(images).to(device)).float().cpu().numpy()
    finally:
        model.train(training)
    arrays = state_dict_arrays_for(model, architecture_dict)
    got = np.asarray(Client(endpoint).verify(run, arrays, images)["logits"], dtype=np.float64)
    if got.shape != expected.shape:
        raise I2XError("mismatch", f"i2x returned logits of shape {list(got.shape)}, PyTorch {list(expected.shape)}")
    difference = float(np.max(np.abs(got - expected)))
    scale = max(1.0, float(np.max(np.abs(expected))))
    if difference > TOLERANCE * scale:
        raise I2XError(
            "mismatch",
            f"i2x's logits differ from PyTorch's by up to {difference:.3g} (tolerance {TOLERANCE * scale:.3g}) on "
            f"{len(images)} probe images: the model's forward computes something the exported architecture does not "
            "(an op the exporter could not see); pass verify=False to publish anyway",
        )
    return difference


def state_dict_arrays_for(model: nn.Module, architecture_dict: Optional[dict]) -> dict:
    from .publisher import state_dict_arrays

    arrays = state_dict_arrays(model)
    if architecture_dict is None:
        return arrays
    return {name: arrays[name] for name in tensor_names(architecture_dict) if name in arrays}
