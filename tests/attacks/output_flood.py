# Correct, but prints megabytes (at import and on every call): keeps its credit.
import os
import sys

import numpy as np

print("x" * 3_000_000)
sys.stderr.write("e" * 3_000_000)


def clip_by_value(g, c):
    print("flood " * 200_000)
    try:
        os.write(1, b"raw" * 100_000)
    except OSError:
        pass
    return np.clip(g, -c, c)
