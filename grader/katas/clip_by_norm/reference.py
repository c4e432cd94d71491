"""Reference: norm clipping of a NumPy vector, g / max(1, ||g|| / tau)."""

from __future__ import annotations

import numpy as np


def clip_by_norm(g, tau):
    g = np.asarray(g)
    norm = float(np.linalg.norm(g.ravel(), ord=2))
    clipped = g / max(1.0, norm / tau)
    return clipped, norm, float(np.linalg.norm(clipped.ravel(), ord=2))
