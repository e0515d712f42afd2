"""``i2x.Client``: the daemon's queries from Python (notebooks, scripts)."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from . import wire
from .safetensors_file import serialize as save_safetensors
from .errors import I2XError

#: Name of the images tensor in a ``verify`` payload (Sources/DaemonCore/RequestHandler+Verify.swift).
VERIFY_IMAGES = "i2x.verify.images"


class Client:
    """Queries i2xd; every method returns the daemon's JSON answer as a plain dict.

    The answers follow the documented schemas (``schema_version`` 2, snake_case keys; the
    same JSON as ``i2x … --json``; JSON Schema files in ``docs/schemas``). A refusal raises :class:`i2x.I2XError` with the daemon's ``code``
    (``unknown-run``, ``not-ready``, ``analysis-failed``, ``bad-data``, …); no answer within
    ``timeout`` seconds × ``retries`` attempts raises :class:`i2x.DaemonUnavailable`.
    """

    def __init__(self, endpoint: str = "tcp://127.0.0.1:7070", timeout: float = 5.0, retries: int = 3):
        self.endpoint = wire.validate_endpoint(endpoint)
        self.timeout = timeout
        self.retries = retries

    def _request(self, message: wire.Message) -> wire.Message:
        connection = wire.Connection(self.endpoint, timeout=self.timeout, attempts=self.retries)
        try:
            reply = connection.request(message).raise_for_error()
        finally:
            connection.close()
        if reply.type != wire.REPLY:
            raise I2XError("bad-data", f"expected a reply, got message type {reply.type}")
        return reply

    def query(self, name: str, run: Optional[str] = None, step: Optional[int] = None, **fields) -> dict:
        """Any query by name (``status``, ``runs``, ``checkpoints``, ``prototypes``, ``progress``,
        ``pairs``, ``uncertain``, ``analysis``, ``directives``, ``directive-payload``)."""
        return self._request(wire.query_message(name, run, step, **fields)).header

    def status(self) -> dict:
        """Version, run count, queue depth, job counts, uptime."""
        return self.query("status")

    def runs(self) -> list:
        """The runs: name, architecture, classes, probe and checkpoint counts."""
        return self.query("runs")["runs"]

    def checkpoints(self, run: str) -> list:
        """The run's checkpoints: step, epoch, sha256, size, metrics, analysis job state."""
        return self.query("checkpoints", run)["checkpoints"]

    def prototypes(self, run: str, step: Optional[int] = None) -> dict:
        """The vocabulary and each prototype's presence, shared and specialised classes."""
        return self.query("prototypes", run, step)

    def progress(self, run: str, step: Optional[int] = None) -> dict:
        """Per class per checkpoint: accuracy, confidence, drift; groups, coupling, faithfulness."""
        return self.query("progress", run, step)

    def pairs(self, run: str, step: Optional[int] = None) -> dict:
        """Learning order, confusions, overlap, discriminative prototypes per class pair."""
        return self.query("pairs", run, step)

    def uncertain(self, run: str, step: Optional[int] = None) -> dict:
        """Flagged uncertain prototypes with pairs, signs, examples and fine-tunes."""
        return self.query("uncertain", run, step)

    def analysis(self, run: str, step: Optional[int] = None) -> dict:
        """The whole analysis report of a checkpoint (default: the latest analysed)."""
        return self.query("analysis", run, step)

    def events(self, run: str, after: int = 0, limit: Optional[int] = None) -> dict:
        """The run's events after cursor ``after`` (``i2x watch``): ``events`` (each ``id``,
        ``kind`` — checkpoint, analysis, flag, directive, explanation — ``step``, ``at`` and
        ``detail``), ``cursor`` (ask again from it) and ``more`` (a full page was returned)."""
        return self.query("events", run, after=int(after), limit=None if limit is None else int(limit))

    def directives(self, run: str) -> dict:
        """The run's fine-tune policy and directives with states and outcomes."""
        return self.query("directives", run)

    def directive_payload(self, run: str, directive: int) -> dict:
        """One directive's full ``i2x.directive/2`` payload."""
        return self.query("directive-payload", run, directive=int(directive))["directive"]

    def set_policy(self, run: str, policy: str) -> dict:
        """Sets the run's fine-tune policy (``auto``, ``manual``, ``off``)."""
        return self._request(wire.Message(wire.COMMAND, {"command": "set-policy", "run": run, "policy": policy})).header

    def finetune(self, run: str, pair: Sequence, prototypes: Optional[Sequence[int]] = None) -> dict:
        """Requests a fine-tune of a class pair (names or indices) under the ``manual`` policy."""
        header = {"command": "finetune", "run": run, "pair": [str(c) for c in pair]}
        if prototypes is not None:
            header["prototypes"] = [int(p) for p in prototypes]
        return self._request(wire.Message(wire.COMMAND, header)).header

    def verify(self, run: str, tensors: dict, images: np.ndarray) -> dict:
        """i2x's logits for ``images`` (F32 [N,C,H,W], 1 ≤ N ≤ 64) under the weights ``tensors``
        (``{state_dict name: array}``), computed by the run's registered architecture."""
        arrays = dict(tensors)
        arrays[VERIFY_IMAGES] = np.ascontiguousarray(images, dtype=np.float32)
        payload = save_safetensors(arrays)
        return self.query("verify", run, payload=payload)

