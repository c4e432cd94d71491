"""Driver for the NumPy ``clip_by_norm(g, tau)``."""

from __future__ import annotations

import numpy as np

from gradkata.worker.values import describe


def run(funcs: dict, scenario: dict) -> dict:
    g = np.array(scenario["g"], copy=True)
    returned = funcs["clip_by_norm"](g, scenario["tau"])
    # g_after tells whether the caller's array was modified.
    return {"returned": describe(returned), "g_after": np.array(g, copy=True)}
