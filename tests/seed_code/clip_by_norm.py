# The notebook's NumPy clip_by_norm ("Gradient clipping and gradient
# checking"), as the seed writes it.
import numpy as np


def clip_by_norm(g, tau: float):
    """
    Scale gradient vector g so that ||g||_2 <= tau (if needed).
    """
    norm = np.linalg.norm(g, ord=2)
    scale = max(1.0, norm / tau)
    return g / scale, norm, np.linalg.norm(g / scale, ord=2)
