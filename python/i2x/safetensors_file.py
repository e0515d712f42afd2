"""Deterministic safetensors serialisation (same bytes for the same tensors and metadata).

The ``safetensors`` library writes ``__metadata__`` from a hash map, so two saves of the same
weights can differ in their header bytes, and the daemon would see a re-sent checkpoint as a
``conflict`` instead of a ``duplicate``. This writer, like the Swift one, sorts tensors by name,
writes a key-sorted header padded with spaces to a multiple of 8 bytes and the data in that order.
"""

from __future__ import annotations

import json
from typing import Optional

import numpy as np

_DTYPES = {np.dtype("<f4"): "F32", np.dtype("<i8"): "I64", np.dtype("u1"): "U8"}


def serialize(tensors: dict, metadata: Optional[dict] = None) -> bytes:
    """The safetensors bytes of ``{name: ndarray}`` (F32, I64 or U8) plus string metadata."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for name in sorted(tensors):
        array = np.asarray(tensors[name])
        little = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        array = np.ascontiguousarray(array, dtype=little)
        dtype = _DTYPES.get(array.dtype)
        if dtype is None:
            raise ValueError(f"tensor '{name}' has dtype {array.dtype}; only float32, int64 and uint8 are written")
        data = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + b"".join(blobs)
