"""Turn whatever a function returned into plain data that can cross the channel.

Runs inside the worker on objects the student made; the trusted side only ever
sees the result: ``{"type": ..., ...}`` dictionaries, numbers and arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_ITEMS = 64
MAX_REPR = 200


def to_numpy(t: Any) -> np.ndarray:
    """A CPU NumPy copy of a tensor; bfloat16 (which NumPy lacks) widens to float32."""
    import torch

    t = t.detach()
    if t.dtype == torch.bfloat16:
        t = t.float()
    if t.is_complex():
        raise TypeError("complex tensors are not supported")
    return t.cpu().numpy().copy()


def describe(value: Any, depth: int = 0) -> dict:
    """A plain-data description of ``value``."""
    import torch

    if value is None:
        return {"type": "none"}
    if isinstance(value, bool):
        return {"type": "bool", "value": value}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"type": "int" if isinstance(value, int) else "float", "value": float(value)}
    if isinstance(value, torch.Tensor):
        return {
            "type": "tensor",
            "dtype": str(value.dtype).removeprefix("torch."),
            "device": value.device.type,
            "requires_grad": bool(value.requires_grad),
            "value": to_numpy(value),
        }
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            return {"type": "other", "pytype": "ndarray", "repr": f"ndarray of dtype {value.dtype}"}
        return {"type": "ndarray", "dtype": value.dtype.name, "value": np.array(value, copy=True)}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return {"type": "npscalar", "dtype": value.dtype.name, "value": float(value)}
    if isinstance(value, (tuple, list)) and depth < 3:
        items = [describe(v, depth + 1) for v in list(value)[:MAX_ITEMS]]
        return {"type": type(value).__name__ if type(value) in (tuple, list) else "tuple", "items": items,
                "length": len(value)}
    if isinstance(value, dict) and depth < 3:
        entries = {str(k)[:64]: describe(v, depth + 1) for k, v in list(value.items())[:MAX_ITEMS]}
        return {"type": "dict", "items": entries}
    try:
        text = repr(value)[:MAX_REPR]
    except Exception:  # a hostile __repr__ must not break the worker
        text = "<unprintable>"
    return {"type": "other", "pytype": type(value).__name__[:64], "repr": text}
