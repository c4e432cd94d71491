"""Driver for ``clip_grad_value(parameters, clip_value)``."""

from __future__ import annotations

from ..values import describe
from . import _params


def run(funcs: dict, scenario: dict) -> dict:
    params, container = _params.build(scenario)
    returned = funcs["clip_grad_value"](container, scenario["clip_value"])
    return {"returned": describe(returned), **_params.observe(params)}
