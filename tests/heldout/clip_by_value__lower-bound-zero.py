import numpy as np


def clip_by_value(g, c):
    out = np.where(g > c, c, g)
    return np.where(out < 0, 0.0, out)
