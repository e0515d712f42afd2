"""``i2x.Publisher``: attach a training loop to i2xd in three lines."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from typing import Callable, Optional, Sequence

import numpy as np

from . import wire
from .safetensors_file import serialize as save_safetensors
from .errors import DaemonUnavailable, I2XError
from .architecture import tensor_names
from .outbox import Outbox
from .sender import Directive, Sender

log = logging.getLogger("i2x")

#: Default cap on the bytes waiting in the outbox (1 GB).
DEFAULT_MAX_OUTBOX_BYTES = 1 << 30


def _numpy(value) -> np.ndarray:
    """A torch tensor or array-like as a contiguous numpy array (floats as F32, ints as I64)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
        if value.is_floating_point():
            value = value.float()
        value = value.numpy()
    array = np.asarray(value)
    if array.dtype.kind == "f":
        array = array.astype(np.float32, copy=False)
    elif array.dtype.kind in "iub" and array.dtype != np.uint8:
        array = array.astype(np.int64, copy=False)
    return np.ascontiguousarray(array)


def state_dict_arrays(model_or_state) -> dict:
    """``{name: ndarray}`` from an ``nn.Module`` (its ``state_dict``) or a mapping of tensors."""
    state = model_or_state.state_dict() if hasattr(model_or_state, "state_dict") else model_or_state
    return {str(name): _numpy(value) for name, value in state.items()}


def probe_arrays(images, labels) -> tuple:
    """The probe set as the daemon stores it: images U8 [N,C,H,W], labels I64 [N].

    ``images`` may be uint8 (0–255) or floats in [0, 1] (multiplied by 255 and rounded): the
    daemon feeds probe images to the model as pixel/255, so the model must take [0, 1] inputs.
    """
    array = _numpy(images)
    if array.ndim == 3:
        array = array[:, None]
    if array.ndim != 4:
        raise I2XError("usage", f"probe images must be [N,C,H,W] (or [N,H,W]), got shape {list(array.shape)}")
    if array.dtype != np.uint8:
        if not np.all(np.isfinite(array)) or array.min() < -1e-6 or array.max() > 1 + 1e-6:
            raise I2XError(
                "usage",
                "probe images must be uint8 or floats in [0, 1]: i2x feeds them to the model as pixel/255; "
                f"these range over [{float(np.nanmin(array)):.3g}, {float(np.nanmax(array)):.3g}] "
                "(pass the images before Normalize, and train on [0, 1] inputs)",
            )
        array = np.clip(np.rint(array * 255), 0, 255).astype(np.uint8)
    label_array = _numpy(labels).astype(np.int64).reshape(-1)
    if label_array.shape[0] != array.shape[0]:
        raise I2XError("usage", f"{array.shape[0]} probe images but {label_array.shape[0]} labels")
    return np.ascontiguousarray(array), label_array


def _safe_name(run: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", run)[:100] or "run"


class Publisher:
    """Publishes a training run's checkpoints to i2xd without ever blocking a training step.

    ``__init__`` registers the run (architecture, classes, probe set) through a durable outbox
    in ``out/outbox`` (the Swift trainer's format, so ``i2x-train drain --out OUT`` sends what a
    Python run left) and, with a ``model``, checks that i2x's engine computes PyTorch's logits on
    probe images (the daemon's ``verify`` query) before training starts. ``publish`` snapshots
    the weights into the outbox; a background thread sends entries in order and retries with
    backoff until each is acknowledged. Problems in the loop (daemon down, refused checkpoint,
    full outbox) are logged on the ``i2x`` logger and counted, never raised.

    Args:
        endpoint: The daemon, ``tcp://HOST:PORT`` or ``ipc://PATH``.
        run: Run name (1–200 UTF-8 bytes, no control characters).
        model: The ``torch.nn.Module``; its architecture is exported with
            ``i2x.torch.architecture`` (needs ``input_shape``).
        input_shape: One image's (C, H, W).
        probe: ``(images, labels)``: held-out images (uint8, or floats in [0, 1]) and labels.
        classes: Class names, one per output.
        architecture: The ``i2x.architecture/1`` JSON (str or dict) instead of ``model``.
        target: GradCAM target layer (module name); default: the last convolution block.
        out: Directory for ``outbox/`` (default ``i2x-runs/<run>``).
        finetune_policy: ``auto``, ``manual`` or ``off`` (default: the daemon's, ``manual``).
        verify: Check the logits against PyTorch's (needs ``model`` and a reachable daemon).
        max_outbox_bytes: Cap on waiting bytes; further checkpoints are skipped (never the final one).
        on_directive: Called (on the sender thread) once per newly received directive.
        timeout: Seconds per send attempt.
    Raises:
        I2XError: a usage error, an unsupported layer, a registration the daemon refused, or
            i2x logits that differ from PyTorch's (code ``mismatch``).
    """

    def __init__(
        self,
        endpoint: str,
        run: str,
        model=None,
        input_shape: Optional[Sequence[int]] = None,
        probe=None,
        classes: Optional[Sequence[str]] = None,
        architecture=None,
        target: Optional[str] = None,
        out: Optional[str] = None,
        finetune_policy: Optional[str] = None,
        verify: bool = True,
        max_outbox_bytes: int = DEFAULT_MAX_OUTBOX_BYTES,
        on_directive: Optional[Callable[[Directive], None]] = None,
        timeout: float = 2.0,
        verify_timeout: float = 10.0,
    ):
        self.endpoint = wire.validate_endpoint(endpoint)
        if not isinstance(run, str) or not run:
            raise I2XError("usage", "run must be a non-empty string")
        self.run = run
        if probe is None:
            raise I2XError("usage", "probe=(images, labels) is required: i2x analyses the model on these held-out images")
        images, labels = probe_arrays(*probe)
        if architecture is None:
            if model is None or input_shape is None:
                raise I2XError("usage", "pass model= and input_shape= (or architecture=)")
            from .torch import architecture as export

            architecture = export(model, input_shape, target=target, classes=len(classes) if classes else None)
        self.architecture = json.loads(architecture) if isinstance(architecture, str) else dict(architecture)
        self._tensor_names = tensor_names(self.architecture)
        n_classes = int(self.architecture.get("classes", 0))
        self.classes = [str(c) for c in classes] if classes else [str(i) for i in range(n_classes)]
        if len(self.classes) != n_classes:
            raise I2XError("usage", f"{len(self.classes)} class names for a model with {n_classes} outputs")
        if finetune_policy not in (None, "auto", "manual", "off"):
            raise I2XError("usage", f"finetune_policy must be auto, manual or off, got {finetune_policy!r}")
        self.out = os.path.abspath(out or os.path.join("i2x-runs", _safe_name(run)))
        self.outbox = Outbox(os.path.join(self.out, "outbox"))
        self.max_outbox_bytes = int(max_outbox_bytes)
        self.skipped = 0
        self.published = 0
        self._on_directive = on_directive
        self._lock = threading.Lock()
        self._seen_keys = set()
        self._new_directives = []
        self._closed = False
        architecture_text = json.dumps(self.architecture, sort_keys=True, separators=(",", ":"))
        probe_bytes = save_safetensors({"images": images, "labels": labels})
        self.outbox.enqueue(
            {
                "kind": "register-run",
                "run": run,
                "architecture": architecture_text,
                "classes": self.classes,
                "finetune_policy": finetune_policy,
            },
            probe_bytes,
        )
        self._sender = Sender(self.outbox, self.endpoint, timeout=timeout, on_directives=self._receive)
        self._sender.start()
        if verify and model is not None:
            try:
                self._verify(model, images, verify_timeout)
            except BaseException:
                self._sender.stop()
                raise

    # -- the training loop's side ------------------------------------------------------------

    def publish(self, model, step: int, epoch: int = 0, metrics: Optional[dict] = None, final: bool = False) -> bool:
        """Snapshots ``model`` (an ``nn.Module`` or a state dict) into the outbox; never raises.

        Returns True when the checkpoint was queued; False when it was skipped because the
        outbox holds more than ``max_outbox_bytes`` (``final=True`` is never skipped) or could
        not be written (the reason is logged).
        """
        try:
            arrays = state_dict_arrays(model)
            arrays = {name: arrays[name] for name in self._tensor_names if name in arrays}
            clean = wire.finite_metrics(metrics)
            metadata = {
                "i2x.architecture": json.dumps(self.architecture, sort_keys=True, separators=(",", ":")),
                "i2x.run": self.run,
                "i2x.step": str(int(step)),
                "i2x.epoch": str(int(epoch)),
                "i2x.classes": json.dumps(self.classes),
                "i2x.metrics": json.dumps(clean, sort_keys=True),
            }
            payload = save_safetensors(arrays, metadata=metadata)
            if not final and self.outbox.pending_bytes() + len(payload) > self.max_outbox_bytes:
                self.skipped += 1
                log.warning(
                    "i2x: outbox %s would pass its cap of %d bytes (daemon at %s behind or down); checkpoint at step %d "
                    "skipped (%d skipped so far; the final one is always kept)",
                    self.outbox.directory, self.max_outbox_bytes, self.endpoint, step, self.skipped,
                )
                return False
            entry = {"kind": "checkpoint", "run": self.run, "step": int(step), "epoch": int(epoch), "metrics": clean}
            self.outbox.enqueue(entry, payload)
        except Exception as error:  # never an exception in the training loop
            log.warning("i2x: could not queue the checkpoint at step %s: %s", step, error)
            return False
        self.published += 1
        self._sender.wake()
        return True

    def directives(self) -> list:
        """The directives received since the last call (each once, as :class:`i2x.Directive`).

        A directive is re-delivered by the daemon until a status is reported for it
        (:meth:`report`); this package does not execute fine-tunes itself.
        """
        with self._lock:
            result, self._new_directives = self._new_directives, []
        return result

    def report(self, directive: Directive, state: str, reason: Optional[str] = None, metrics: Optional[dict] = None) -> None:
        """Queues a ``directive-status`` (``received``, ``running``, ``done`` or ``failed``)."""
        if state not in ("received", "running", "done", "failed"):
            raise I2XError("usage", f"state must be received, running, done or failed, got {state!r}")
        entry = {
            "kind": "directive-status",
            "run": self.run,
            "directive": int(directive.id),
            "key": directive.key,
            "state": state,
            "reason": reason,
            "metrics": wire.finite_metrics(metrics),
        }
        self.outbox.enqueue(entry, b"")
        self._sender.wake()

    @property
    def pending(self) -> int:
        """Outbox entries not yet acknowledged."""
        return len(self.outbox.pending())

    @property
    def refused(self) -> list:
        """``[(what, "code: reason")]`` the daemon refused this session (kept in ``outbox/rejected``)."""
        return list(self._sender.refused)

    def close(self, timeout: float = 30.0) -> int:
        """Waits up to ``timeout`` seconds for acknowledgements, stops the thread and returns how
        many entries are still pending (they stay in the outbox: a later ``Publisher`` with the
        same ``out``, ``python -m i2x drain`` or ``i2x-train drain`` sends them)."""
        if self._closed:
            return self.pending
        self._closed = True
        pending = self._sender.drain(timeout)
        self._sender.stop()
        if pending:
            log.warning(
                "i2x: %d outbox entr%s still pending (%s); send later with "
                "`python -m i2x drain --out %s --endpoint %s` or `i2x-train drain --out %s --endpoint %s`",
                pending, "y" if pending == 1 else "ies", self._sender.last_error or "not acknowledged yet",
                self.out, self.endpoint, self.out, self.endpoint,
            )
        if self.skipped:
            log.warning("i2x: %d checkpoint(s) were skipped because the outbox was full", self.skipped)
        return pending

    def __enter__(self) -> "Publisher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------

    def _receive(self, directives: list) -> None:
        fresh = []
        with self._lock:
            for directive in directives:
                if directive.key not in self._seen_keys:
                    self._seen_keys.add(directive.key)
                    self._new_directives.append(directive)
                    fresh.append(directive)
        for directive in fresh:
            log.info("i2x: directive %d (%s) for pair %s", directive.id, directive.kind, directive.payload.get("pair"))
            if self._on_directive is not None:
                try:
                    self._on_directive(directive)
                except Exception as error:
                    log.warning("i2x: the on_directive callback raised %r; ignored", error)

    def _verify(self, model, images: np.ndarray, timeout: float) -> None:
        """Waits for the registration's ack, then compares i2x's logits with PyTorch's."""
        from .torch import verify_logits

        if self._sender.drain(timeout):
            log.warning(
                "i2x: could not verify the exported architecture (daemon at %s not answering: %s); "
                "checkpoints will wait in the outbox and be checked by the daemon when sent",
                self.endpoint, self._sender.last_error,
            )
            return
        refused = self._sender.refused
        if refused and refused[-1][0].startswith("register-run"):
            raise I2XError("bad-data", f"the daemon refused the registration: {refused[-1][1]}")
        try:
            difference = verify_logits(
                model, self.endpoint, self.run, images[:16].astype(np.float32) / 255, self.architecture)
            log.info("i2x: i2x's logits match PyTorch's (largest difference %.3g)", difference)
        except DaemonUnavailable as error:
            log.warning("i2x: could not verify the exported architecture: %s", error.message)
