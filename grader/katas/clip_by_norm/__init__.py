"""Kata: norm clipping of one NumPy gradient vector."""

from __future__ import annotations

from .._kata import Kata


def _oracle() -> dict:
    import numpy as np
    import torch

    def clip_by_norm(g, tau):
        # torch's clip_grad_norm_ without its 1e-6: exactly g / max(1, ||g|| / tau).
        t = torch.from_numpy(np.array(g, dtype=np.float64, copy=True))
        norm = float(torch.linalg.vector_norm(t))
        out = (t / max(1.0, norm / tau)).numpy()
        return out, norm, float(np.linalg.norm(out))

    return {"clip_by_norm": clip_by_norm}


STUB = '''
import numpy as np


def clip_by_norm(g, tau):
    """Scale the vector g so that its L2 norm is at most tau.

        g_clipped = g / max(1, ||g||_2 / tau)

    Vectors already inside the ball of radius tau come back unchanged; longer
    ones are shrunk onto its surface, keeping their direction.

    Args:
        g: a NumPy array (any shape; the norm is over all its elements).
            Do not modify it: return a new array.
        tau: the threshold, tau > 0.

    Returns:
        (g_clipped, norm_before, norm_after): the clipped array and the L2
        norms of g before and after clipping.
    """
    raise NotImplementedError("clip_by_norm is not implemented yet")
'''

KATA = Kata(
    slug="clip_by_norm",
    title="Norm clipping in NumPy",
    topic="clipping",
    summary="Implement clip_by_norm(g, tau) with NumPy: return (g / max(1, ||g|| / tau), norm before, "
    "norm after) without modifying g.",
    functions=("clip_by_norm",),
    stub=STUB,
    oracle=_oracle,
)
