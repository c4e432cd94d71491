"""Norm clipping in NumPy.

Implement clip_by_norm(g, tau) with NumPy: return (g / max(1, ||g|| / tau),
norm before, norm after) without modifying g.

Run `gradkata check clip_by_norm` to try the visible examples,
`gradkata grade` for the full hidden suite.
"""

import numpy as np


def clip_by_norm(g, tau):
    """Scale the vector g so that its L2 norm is at most tau.

        g_clipped = g / max(1, ||g||_2 / tau)

    Vectors already inside the ball of radius tau come back unchanged; longer
    ones are shrunk onto its surface, keeping their direction.

    Interview tier: 1-D NumPy vectors, as in the notebook. Parity tier: arrays
    of any rank (a matrix, a 3-D array, a 0-d scalar), where the norm is over
    every element (np.linalg.norm(g, 2) of a matrix is its largest singular
    value, not this norm). PyTorch's clip_grad_norm_ adds 1e-6 to the norm,
    g * min(1, tau / (||g|| + 1e-6)); that variant is accepted too.

    Args:
        g: a NumPy array (any shape; the norm is over all its elements).
            Do not modify it: return a new array.
        tau: the threshold, tau > 0.

    Returns:
        (g_clipped, norm_before, norm_after): the clipped array and the L2
        norms of g before and after clipping.
    """
    raise NotImplementedError("clip_by_norm is not implemented yet")
