"""The durable outbox, in the Swift trainer's on-disk format (Sources/Training/Outbox.swift).

An entry is ``<seq>.json`` (8-digit sequence number; its description, written last by temp file,
fsync and rename, so its presence commits the entry) plus ``<seq>.payload`` (the bytes to send:
the probe set of a registration, the checkpoint file; empty for a directive status). The JSON
object has sorted keys: ``kind`` (``register-run``, ``checkpoint``, ``directive-status``) and
``run`` always; ``step``, ``epoch``, ``metrics`` for checkpoints; ``architecture`` (JSON text),
``classes``, ``finetune_policy`` for registrations; ``directive``, ``key``, ``state``,
``reason``, ``metrics`` for directive statuses. Entries are sent in sequence order and removed
once acknowledged; refused ones move to ``rejected/`` as ``<seq>-<unix time>.json|.payload|.reason``.
``i2x-train drain --out DIR`` sends a Python run's ``DIR/outbox`` and this package sends a Swift one's.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Optional

KINDS = ("register-run", "checkpoint", "directive-status")


def _write_atomically(path: str, data: bytes) -> None:
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _sync_directory(path: str) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


class Outbox:
    """The spool directory ``directory`` (created if missing). Safe for one writer thread plus
    one sender thread, as in the Swift trainer."""

    def __init__(self, directory: str):
        self.directory = os.path.abspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self._last_sequence = 0
        self._lock = threading.Lock()

    def pending(self) -> list:
        """Sequence numbers of committed entries, oldest first."""
        result = []
        for name in os.listdir(self.directory):
            if name.endswith(".json") and name[:-5].isdigit():
                result.append(int(name[:-5]))
        return sorted(result)

    def pending_bytes(self) -> int:
        """Bytes of the committed entries' payloads (what the outbox cap counts)."""
        total = 0
        for sequence in self.pending():
            try:
                total += os.path.getsize(self._payload(sequence))
            except OSError:
                pass
        return total

    def enqueue(self, entry: dict, payload: bytes) -> int:
        """Commits an entry: payload first, then its description; returns the sequence number."""
        if entry.get("kind") not in KINDS or not isinstance(entry.get("run"), str):
            raise ValueError(f"outbox entries need a kind in {KINDS} and a run, got {entry!r}")
        with self._lock:
            # Never reuse a number within a session: the sender may be removing the newest
            # entry's files right now, and a reused number would pair its removal with ours.
            pending = self.pending()
            sequence = max(pending[-1] if pending else 0, self._last_sequence) + 1
            self._last_sequence = sequence
            _write_atomically(self._payload(sequence), payload)
            text = json.dumps({k: v for k, v in entry.items() if v is not None}, sort_keys=True, separators=(",", ":"))
            _write_atomically(self._entry(sequence), text.encode("utf-8"))
            _sync_directory(self.directory)
        return sequence

    def read(self, sequence: int) -> tuple:
        """``(entry dict, payload bytes)`` of ``sequence``; raises ``OSError``/``ValueError`` when unreadable."""
        with open(self._entry(sequence), "rb") as handle:
            entry = json.loads(handle.read().decode("utf-8"))
        if not isinstance(entry, dict):
            raise ValueError("outbox entry is not a JSON object")
        with open(self._payload(sequence), "rb") as handle:
            return entry, handle.read()

    def remove(self, sequence: int) -> None:
        """Removes an acknowledged entry (description first, so a crash leaves no half entry)."""
        for path in (self._entry(sequence), self._payload(sequence)):
            try:
                os.remove(path)
            except OSError:
                pass

    def reject(self, sequence: int, reason: str) -> str:
        """Moves a refused entry to ``rejected/`` with its reason; returns the stem it was given."""
        rejected = os.path.join(self.directory, "rejected")
        os.makedirs(rejected, exist_ok=True)
        stem = os.path.join(rejected, f"{sequence}-{int(time.time())}")
        for source, suffix in ((self._payload(sequence), ".payload"),):
            try:
                os.replace(source, stem + suffix)
            except OSError:
                pass
        with open(stem + ".reason", "w", encoding="utf-8") as handle:
            handle.write(reason)
        try:
            os.replace(self._entry(sequence), stem + ".json")
        except OSError:
            pass
        return stem

    def rejected(self) -> list:
        """``[(entry dict or None, reason)]`` of the refused entries, oldest first."""
        directory = os.path.join(self.directory, "rejected")
        if not os.path.isdir(directory):
            return []
        result = []
        for name in sorted(n for n in os.listdir(directory) if n.endswith(".reason")):
            stem = os.path.join(directory, name[: -len(".reason")])
            with open(stem + ".reason", encoding="utf-8") as handle:
                reason = handle.read()
            entry: Optional[dict] = None
            try:
                with open(stem + ".json", encoding="utf-8") as handle:
                    entry = json.load(handle)
            except (OSError, ValueError):
                pass
            result.append((entry, reason))
        return result

    def _entry(self, sequence: int) -> str:
        return os.path.join(self.directory, f"{sequence:08d}.json")

    def _payload(self, sequence: int) -> str:
        return os.path.join(self.directory, f"{sequence:08d}.payload")
