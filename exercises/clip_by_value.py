"""Value clipping in NumPy.

Implement clip_by_value(g, c) with NumPy: clamp every component of g to [-c, c]
and return the result.

Run `gradkata check clip_by_value` to try the visible examples,
`gradkata grade` for the full hidden suite.
"""

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
