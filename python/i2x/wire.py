"""The i2x wire protocol (README "Protocol"; Swift: Sources/Wire), the package's only copy.

A message is two or three ZeroMQ frames: ``b"I2X"`` + version (1) + type byte; a JSON object
header with sorted keys; an optional binary payload (a safetensors file). The daemon's ROUTER
socket serves REQ sockets; :class:`Connection` is one REQ socket with the Lazy Pirate pattern
(on a timeout the socket is closed and reopened, so a lost reply never wedges it).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass
from typing import Any, Optional

import zmq

from .errors import DaemonUnavailable, I2XError

MAGIC = b"I2X"
VERSION = 1

REGISTER_RUN = 1
CHECKPOINT = 2
ACK = 3
ERROR = 4
QUERY = 5
REPLY = 6
DIRECTIVE_STATUS = 7
COMMAND = 8

TYPE_NAMES = {
    REGISTER_RUN: "register-run",
    CHECKPOINT: "checkpoint",
    ACK: "ack",
    ERROR: "error",
    QUERY: "query",
    REPLY: "reply",
    DIRECTIVE_STATUS: "directive-status",
    COMMAND: "command",
}

#: Largest message a socket accepts (the daemon's default ``--max-message-size``).
MAX_MESSAGE_SIZE = 256 << 20


@dataclass
class Message:
    """One protocol message: type, decoded header, optional payload bytes."""

    type: int
    header: dict
    payload: Optional[bytes] = None

    def frames(self) -> list:
        """The ZeroMQ frames (header as key-sorted compact JSON, like the Swift encoder)."""
        head = json.dumps(self.header, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        frames = [MAGIC + bytes([VERSION, self.type]), head.encode("utf-8")]
        if self.payload is not None:
            frames.append(bytes(self.payload))
        return frames

    @classmethod
    def parse(cls, frames: list) -> "Message":
        """Parses frames, checking the envelope; raises :class:`I2XError` (``bad-data``)."""
        if len(frames) not in (2, 3):
            raise I2XError("bad-data", f"expected 2 or 3 frames from the daemon, got {len(frames)}")
        envelope = bytes(frames[0])
        if len(envelope) != 5 or envelope[:3] != MAGIC:
            raise I2XError("bad-data", "the reply is not an i2x message (no 'I2X' envelope)")
        if envelope[3] != VERSION:
            raise I2XError("unsupported-version", f"the daemon speaks protocol version {envelope[3]}, this package {VERSION}")
        try:
            header = json.loads(bytes(frames[1]).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise I2XError("bad-data", f"the reply's header is not JSON: {error}") from None
        if not isinstance(header, dict):
            raise I2XError("bad-data", "the reply's header is not a JSON object")
        return cls(envelope[4], header, bytes(frames[2]) if len(frames) == 3 else None)

    def raise_for_error(self) -> "Message":
        """Raises :class:`I2XError` with the daemon's code when this is an ``error`` reply."""
        if self.type == ERROR:
            raise I2XError(str(self.header.get("code", "internal")), str(self.header.get("message", "")))
        return self


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256, as the headers carry it."""
    return hashlib.sha256(data).hexdigest()


def finite_metrics(metrics: Optional[dict]) -> dict:
    """``{name: float}`` keeping only finite numbers (JSON cannot carry NaN; the daemon drops them)."""
    result = {}
    for key, value in (metrics or {}).items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            result[str(key)] = number
    return result


_ENDPOINT = re.compile(r"^(tcp://[^:/\s]+:(\d{1,5})|ipc://\S+)$")


def validate_endpoint(endpoint: str) -> str:
    """Checks ``tcp://HOST:PORT`` or ``ipc://PATH``; raises :class:`I2XError` (``usage``)."""
    match = _ENDPOINT.match(endpoint or "")
    if not match or (match.group(2) is not None and not 0 < int(match.group(2)) < 65536):
        raise I2XError("usage", f"endpoint '{endpoint}' is not tcp://HOST:PORT or ipc://PATH (e.g. tcp://127.0.0.1:7070)")
    return endpoint.replace("tcp://localhost:", "tcp://127.0.0.1:")


def curve_keys() -> Optional[tuple]:
    """``(server, public, secret)`` Z85 keys from ``I2X_CURVE_*`` (all three or none), like the Swift clients."""
    names = ("I2X_CURVE_SERVER_KEY", "I2X_CURVE_PUBLIC_KEY", "I2X_CURVE_SECRET_KEY")
    values = [os.environ.get(name) for name in names]
    if not any(values):
        return None
    if not all(values):
        missing = ", ".join(n for n, v in zip(names, values) if not v)
        raise I2XError("usage", f"CURVE needs all three of {', '.join(names)}; missing {missing} (no plaintext fall-back)")
    for name, value in zip(names, values):
        if len(value) != 40:
            raise I2XError("usage", f"{name} must be 40 Z85 characters, got {len(value)}")
    return tuple(v.encode() for v in values)


class Connection:
    """One REQ socket to the daemon with per-attempt timeouts (Lazy Pirate).

    Owned by one thread. ``request`` sends, waits ``timeout`` seconds, and on silence closes and
    reopens the socket, up to ``attempts`` times, then raises :class:`DaemonUnavailable`.
    """

    def __init__(self, endpoint: str, timeout: float = 5.0, attempts: int = 3, context: Optional[zmq.Context] = None):
        self.endpoint = validate_endpoint(endpoint)
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self._context = context or zmq.Context.instance()
        self._curve = curve_keys()
        self._socket = None

    def _open(self):
        socket = self._context.socket(zmq.REQ)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_SIZE)
        socket.setsockopt(zmq.SNDTIMEO, int(self.timeout * 1000))
        if self._curve:
            server, public, secret = self._curve
            socket.curve_serverkey, socket.curve_publickey, socket.curve_secretkey = server, public, secret
        socket.connect(self.endpoint)
        return socket

    def request(self, message: Message) -> Message:
        """Sends ``message`` and returns the reply (an ``error`` reply is returned, not raised)."""
        frames = message.frames()
        for _ in range(self.attempts):
            if self._socket is None:
                self._socket = self._open()
            try:
                self._socket.send_multipart(frames, copy=False)
                if self._socket.poll(int(self.timeout * 1000), zmq.POLLIN):
                    return Message.parse(self._socket.recv_multipart())
            except zmq.ZMQError:
                pass
            self._reset()
        raise DaemonUnavailable(self.endpoint, self.attempts, self.timeout)

    def _reset(self):
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None

    def close(self):
        """Closes the socket (never blocks: linger 0)."""
        self._reset()


def query_message(query: str, run: Optional[str] = None, step: Optional[int] = None, **fields: Any) -> Message:
    """A ``query`` message; absent fields are left out."""
    header = {"query": query}
    if run is not None:
        header["run"] = run
    if step is not None:
        header["step"] = int(step)
    header.update({k: v for k, v in fields.items() if v is not None and k != "payload"})
    return Message(QUERY, header, fields.get("payload"))
