"""The narrow channel between the trusted grader and the untrusted worker.

A message is a JSON header followed by raw array buffers. The header may hold
only JSON values; an array is written in the header as a placeholder
``{"__nd__": index, "dtype": "float32", "shape": [2, 3]}`` and its bytes follow.
Nothing is ever pickled, and the decoder checks every size before it reads,
so a hostile peer can at worst send a malformed message, which is refused.

Frame layout: ``b"GK1\\n"``, 4-byte big-endian header length, header, then
each buffer in order (its length is in the header's ``"buffers"`` list).

This module is imported by both sides, so it uses only the standard library
and NumPy.
"""

from __future__ import annotations

import json
import math
import socket
import struct
from typing import Any

import numpy as np

MAGIC = b"GK1\n"
MAX_HEADER = 4 * 1024 * 1024
MAX_MESSAGE = 64 * 1024 * 1024
MAX_DEPTH = 32
# Only plain numeric dtypes cross the channel: no object arrays, no structured types.
ALLOWED_DTYPES = frozenset(
    ["bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64"]
)


# dtype -> name: ``ndarray.dtype.name`` is slow enough to show in a profile.
_NAMES = {np.dtype(name): name for name in ALLOWED_DTYPES}


class ProtocolError(Exception):
    """The peer sent something that is not a well-formed message."""


def _flatten(obj: Any, buffers: list[bytes], depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise ProtocolError("message nests too deeply")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return _float_out(obj)
    if isinstance(obj, np.ndarray):
        name = _NAMES.get(obj.dtype)
        if name is None:
            if obj.dtype.name not in ALLOWED_DTYPES:
                raise ProtocolError(f"dtype {obj.dtype.name} cannot cross the channel")
            obj = obj.astype(obj.dtype.newbyteorder("="))  # the bytes travel in this machine's order
            name = obj.dtype.name
        buffers.append(np.ascontiguousarray(obj).tobytes())
        return {"__nd__": len(buffers) - 1, "dtype": name, "shape": list(obj.shape)}
    if isinstance(obj, np.generic):
        return _flatten(obj.item(), buffers, depth + 1)
    if isinstance(obj, (list, tuple)):
        return [_flatten(x, buffers, depth + 1) for x in obj]
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str) or key.startswith("__"):
                raise ProtocolError(f"bad key {key!r}")
            out[key] = _flatten(value, buffers, depth + 1)
        return out
    raise ProtocolError(f"{type(obj).__name__} cannot cross the channel")


def _float_out(x: float) -> Any:
    # JSON has no NaN or infinity; spell them as tagged strings.
    if math.isfinite(x):
        return x
    return {"__float__": repr(x)}


def encode(obj: Any) -> bytes:
    buffers: list[bytes] = []
    header = _flatten(obj, buffers)
    head = json.dumps({"body": header, "buffers": [len(b) for b in buffers]}, allow_nan=False).encode()
    return MAGIC + struct.pack(">I", len(head)) + head + b"".join(buffers)


def _unflatten(obj: Any, buffers: list[bytes], depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise ProtocolError("message nests too deeply")
    if isinstance(obj, list):
        return [_unflatten(x, buffers, depth + 1) for x in obj]
    if isinstance(obj, dict):
        if "__nd__" in obj:
            return _array(obj, buffers)
        if "__float__" in obj:
            text = obj["__float__"]
            if text not in ("nan", "inf", "-inf"):
                raise ProtocolError("bad float")
            return float(text)
        return {k: _unflatten(v, buffers, depth + 1) for k, v in obj.items()}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise ProtocolError("unexpected value in header")


def _array(spec: dict, buffers: list[bytes]) -> np.ndarray:
    if set(spec) != {"__nd__", "dtype", "shape"}:
        raise ProtocolError("bad array placeholder")
    index, dtype, shape = spec["__nd__"], spec["dtype"], spec["shape"]
    if dtype not in ALLOWED_DTYPES or not isinstance(index, int) or not 0 <= index < len(buffers):
        raise ProtocolError("bad array placeholder")
    if not isinstance(shape, list) or len(shape) > 16 or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ProtocolError("bad array shape")
    data = buffers[index]
    dt = np.dtype(dtype)
    if math.prod(shape) * dt.itemsize != len(data):
        raise ProtocolError("array size does not match its shape")
    return np.frombuffer(data, dtype=dt).reshape(shape).copy()


def decode(data: bytes) -> Any:
    if len(data) < 8 or data[:4] != MAGIC:
        raise ProtocolError("not a gradkata message")
    (hlen,) = struct.unpack(">I", data[4:8])
    if hlen > MAX_HEADER or 8 + hlen > len(data):
        raise ProtocolError("header too large or truncated")
    try:
        head = json.loads(data[8 : 8 + hlen])
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"header is not JSON: {exc}") from None
    if not isinstance(head, dict) or set(head) != {"body", "buffers"}:
        raise ProtocolError("bad header")
    sizes = head["buffers"]
    if not isinstance(sizes, list) or not all(isinstance(n, int) and n >= 0 for n in sizes):
        raise ProtocolError("bad buffer list")
    offset = 8 + hlen
    if offset + sum(sizes) != len(data):
        raise ProtocolError("message length does not match its buffers")
    buffers = []
    for n in sizes:
        buffers.append(data[offset : offset + n])
        offset += n
    return _unflatten(head["body"], buffers)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError("peer closed the channel")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def send(sock: socket.socket, obj: Any) -> None:
    send_encoded(sock, encode(obj))


def send_encoded(sock: socket.socket, data: bytes) -> None:
    """Send a message already made by :func:`encode`."""
    sock.sendall(struct.pack(">Q", len(data)) + data)


def recv(sock: socket.socket, limit: int = MAX_MESSAGE) -> Any:
    (n,) = struct.unpack(">Q", _recv_exact(sock, 8))
    if n > limit:
        raise ProtocolError(f"message of {n} bytes exceeds the {limit}-byte limit")
    return decode(_recv_exact(sock, n))
