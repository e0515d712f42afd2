"""The outbox's sending thread (the Python twin of Sources/Training/Publisher.swift)."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from . import wire
from .errors import DaemonUnavailable, I2XError
from .outbox import Outbox

log = logging.getLogger("i2x")


@dataclass(frozen=True)
class Directive:
    """A daemon request delivered in an ack (README "Fine-tuning").

    Attributes:
        id: Directive id.
        kind: ``finetune``.
        key: Idempotency key; report statuses with it (``Publisher.report``).
        payload: The ``i2x.directive/1`` JSON as a dict (pair, prototypes, vocabulary, thresholds).
        run: The run it belongs to.
    """

    id: int
    kind: str
    key: str
    payload: dict = field(compare=False, hash=False)
    run: str = ""


def message_for(entry: dict, payload: bytes) -> wire.Message:
    """The wire message of an outbox entry; raises ``ValueError`` for an entry that cannot be sent."""
    kind, run = entry.get("kind"), entry.get("run")
    if not isinstance(run, str):
        raise ValueError("outbox entry without a run")
    digest = wire.sha256_hex(payload)
    if kind == "register-run":
        header = {
            "run": run,
            "architecture": entry.get("architecture") or "",
            "classes": list(entry.get("classes") or []),
            "sha256": digest,
        }
        if entry.get("finetune_policy") is not None:
            header["finetune_policy"] = entry["finetune_policy"]
        return wire.Message(wire.REGISTER_RUN, header, payload)
    if kind == "checkpoint":
        header = {
            "run": run,
            "step": int(entry.get("step") or 0),
            "epoch": int(entry.get("epoch") or 0),
            "sha256": digest,
            "metrics": wire.finite_metrics(entry.get("metrics")),
        }
        return wire.Message(wire.CHECKPOINT, header, payload)
    if kind == "directive-status":
        if entry.get("directive") is None or entry.get("key") is None or entry.get("state") is None:
            raise ValueError("directive-status outbox entry without directive, key or state")
        header = {
            "run": run,
            "directive": int(entry["directive"]),
            "key": entry["key"],
            "state": entry["state"],
            "metrics": wire.finite_metrics(entry.get("metrics")),
        }
        if entry.get("reason") is not None:
            header["reason"] = entry["reason"]
        return wire.Message(wire.DIRECTIVE_STATUS, header)
    raise ValueError(f"unknown outbox entry kind '{kind}'")


def describe(entry: dict) -> str:
    """``checkpoint r1 step 400``, … for messages."""
    text = f"{entry.get('kind')} {entry.get('run')}"
    if entry.get("step") is not None:
        text += f" step {entry['step']}"
    if entry.get("directive") is not None:
        text += f" directive {entry['directive']} {entry.get('state', '')}"
    return text


class Sender:
    """Sends an outbox oldest entry first on its own thread and socket, resending with
    exponential backoff (0.1 s doubling to 5 s) until each entry is acknowledged.

    ``internal`` errors and silence are retried; any other refusal moves the entry to
    ``rejected/`` with the daemon's reason and is logged. While the outbox is empty the
    registration is re-sent every ``poll_interval`` seconds to collect directives.
    """

    def __init__(
        self,
        outbox: Outbox,
        endpoint: str,
        timeout: float = 2.0,
        poll_interval: Optional[float] = 2.0,
        on_directives: Optional[Callable[[list], None]] = None,
    ):
        self.outbox = outbox
        self.endpoint = wire.validate_endpoint(endpoint)
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.on_directives = on_directives
        self.acknowledged = 0
        self.refused = []  # (description, "code: message")
        self.last_error: Optional[str] = None
        self._registration: Optional[wire.Message] = None
        self._last_contact = 0.0
        self._condition = threading.Condition()
        self._stopping = False
        self._thread: Optional[threading.Thread] = None
        self._unreachable_since: Optional[float] = None
        self._last_warning = 0.0

    def start(self) -> None:
        """Starts the sending thread."""
        self._thread = threading.Thread(target=self._run, name="i2x-sender", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Tells the thread an entry was added."""
        with self._condition:
            self._condition.notify_all()

    def drain(self, timeout: float) -> int:
        """Waits until the outbox is empty or ``timeout`` seconds passed; returns what is pending."""
        deadline = time.monotonic() + timeout
        while True:
            pending = len(self.outbox.pending())
            if pending == 0 or time.monotonic() >= deadline:
                return pending
            time.sleep(0.05)

    def stop(self) -> None:
        """Stops the thread after its current attempt (at most one timeout) and joins it."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _wait(self, seconds: float) -> None:
        with self._condition:
            if not self._stopping:
                self._condition.wait(seconds)

    def _run(self) -> None:
        connection = wire.Connection(self.endpoint, timeout=self.timeout, attempts=1)
        backoff = 0.1
        try:
            while not self._stopping:
                pending = self.outbox.pending()
                if not pending:
                    self._poll(connection)
                    self._wait(0.5)
                    continue
                problem = self._send(pending[0], connection)
                if problem is None:
                    backoff = 0.1
                    continue
                self._warn_unreachable(problem, len(pending), backoff)
                self._wait(backoff)
                backoff = min(5.0, backoff * 2)
        finally:
            connection.close()

    def _warn_unreachable(self, problem: str, pending: int, backoff: float) -> None:
        now = time.monotonic()
        self.last_error = problem
        if self._unreachable_since is None:
            self._unreachable_since = now
        if now - self._last_warning >= 30:
            self._last_warning = now
            log.warning(
                "i2x: %s; %d outbox entr%s waiting in %s, retrying (next in %.1f s); training continues",
                problem, pending, "y" if pending == 1 else "ies", self.outbox.directory, backoff,
            )

    def _poll(self, connection: wire.Connection) -> None:
        if self.poll_interval is None or self._registration is None:
            return
        if time.monotonic() - self._last_contact < self.poll_interval:
            return
        self._last_contact = time.monotonic()
        try:
            reply = connection.request(self._registration)
        except (DaemonUnavailable, I2XError):
            return
        if reply.type == wire.ACK:
            self._collect(reply.header.get("directives"), reply.header.get("run", ""))

    def _collect(self, raw: object, run: str) -> None:
        if not raw or not isinstance(raw, list) or self.on_directives is None:
            return
        directives = []
        for item in raw:
            if not isinstance(item, dict):
                continue
            try:
                payload = json.loads(item.get("payload") or "{}")
            except ValueError:
                payload = {"unparsed": item.get("payload")}
            try:
                directives.append(
                    Directive(int(item["id"]), str(item.get("kind", "")), str(item.get("key", "")), payload, run)
                )
            except (KeyError, TypeError, ValueError):
                continue
        if directives:
            self.on_directives(directives)

    def _send(self, sequence: int, connection: wire.Connection) -> Optional[str]:
        """None when the entry is done with (acked or rejected); else why to retry."""
        try:
            entry, payload = self.outbox.read(sequence)
        except (OSError, ValueError) as error:
            if sequence not in self.outbox.pending():
                return None  # removed meanwhile
            self._refuse(sequence, {"kind": "?", "run": "?"}, f"unreadable outbox entry: {error}")
            return None
        try:
            message = message_for(entry, payload)
        except ValueError as error:
            self._refuse(sequence, entry, str(error))
            return None
        try:
            reply = connection.request(message)
        except DaemonUnavailable:
            return f"daemon at {self.endpoint} unreachable"
        except I2XError as error:
            return f"unreadable reply: {error.message}"
        self._last_contact = time.monotonic()
        if reply.type == wire.ACK:
            if self._unreachable_since is not None:
                log.warning("i2x: daemon at %s reachable again; sending the outbox", self.endpoint)
                self._unreachable_since, self._last_warning = None, 0.0
            if entry.get("kind") == "register-run":
                self._registration = message
            self.outbox.remove(sequence)
            self.acknowledged += 1
            log.info("i2x: %s: %s", describe(entry), reply.header.get("status"))
            self._collect(reply.header.get("directives"), entry.get("run", ""))
            return None
        if reply.type == wire.ERROR:
            code = str(reply.header.get("code", "internal"))
            text = str(reply.header.get("message", ""))
            if code == "internal":
                return f"daemon error: {text}"
            self._refuse(sequence, entry, f"{code}: {text}")
            return None
        return f"unexpected reply type {reply.type}"

    def _refuse(self, sequence: int, entry: dict, reason: str) -> None:
        stem = self.outbox.reject(sequence, reason)
        self.refused.append((describe(entry), reason))
        log.warning("i2x: the daemon refused %s: %s; kept as %s.*", describe(entry), reason, stem)


def drain(directory: str, endpoint: str, timeout: float = 60.0) -> int:
    """Sends what a run (Python or ``i2x-train``) left in ``directory`` (its ``--out``, holding
    ``outbox/``) and returns how many entries are still pending after ``timeout`` seconds."""
    import os

    path = os.path.join(directory, "outbox")
    if not os.path.isdir(path):
        raise I2XError("usage", f"no outbox at {path}; was the run published with this directory as out?")
    sender = Sender(Outbox(path), endpoint, poll_interval=None)
    sender.start()
    try:
        return sender.drain(timeout)
    finally:
        sender.stop()
