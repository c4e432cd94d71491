"""Driver for the NumPy ``clip_by_value(g, c)``."""

from __future__ import annotations

from typing import TypedDict

import numpy as np

from gradkata.worker.shapes import Array, Value
from gradkata.worker.values import describe


class Scenario(TypedDict):
    g: Array  # the gradient vector (or matrix), float32 or float64
    c: float  # the clip value


class Observation(TypedDict):
    returned: Value
    g_after: Array  # the caller's array after the call


def run(funcs: dict, scenario: Scenario) -> Observation:
    g = np.array(scenario["g"], copy=True)
    returned = funcs["clip_by_value"](g, scenario["c"])
    return {"returned": describe(returned), "g_after": np.array(g, copy=True)}
