import numpy as np


def clip_by_norm(g, tau):
    before = np.linalg.norm(g)
    g /= max(1.0, before / tau)
    return g, float(before), float(np.linalg.norm(g))
