"""Kata: value clipping of one NumPy gradient vector."""

from __future__ import annotations

from .._kata import Kata


def _oracle() -> dict:
    import numpy as np
    import torch

    def clip_by_value(g, c):
        return torch.clamp(torch.from_numpy(np.array(g, copy=True)), -c, c).numpy()

    return {"clip_by_value": clip_by_value}


STUB = '''
import numpy as np


def clip_by_value(g, c):
    """Clamp every component of g to the interval [-c, c].

    Components inside the interval are kept; larger ones become c and smaller
    ones -c. Each component is treated on its own, so the direction of g can
    change.

    Args:
        g: a NumPy array of any shape (interview tier: a gradient vector;
            parity tier: matrices and an empty array). Do not modify it.
        c: the bound, c >= 0.

    Returns:
        A new array of the same shape with every component in [-c, c].
    """
    raise NotImplementedError("clip_by_value is not implemented yet")
'''

KATA = Kata(
    slug="clip_by_value",
    title="Value clipping in NumPy",
    topic="clipping",
    summary="Implement clip_by_value(g, c) with NumPy: clamp every component of g to [-c, c] "
    "and return the result.",
    functions=("clip_by_value",),
    stub=STUB,
    oracle=_oracle,
)
