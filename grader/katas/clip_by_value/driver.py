"""Driver for the NumPy ``clip_by_value(g, c)``."""

from __future__ import annotations

import numpy as np

from gradkata.worker.values import describe


def run(funcs: dict, scenario: dict) -> dict:
    g = np.array(scenario["g"], copy=True)
    returned = funcs["clip_by_value"](g, scenario["c"])
    return {"returned": describe(returned), "g_after": np.array(g, copy=True)}
