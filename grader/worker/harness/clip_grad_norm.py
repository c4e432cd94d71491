"""Driver for ``clip_grad_norm(parameters, max_norm)``."""

from __future__ import annotations

from ..values import describe
from . import _params


def run(funcs: dict, scenario: dict) -> dict:
    params, container = _params.build(scenario)
    returned = funcs["clip_grad_norm"](container, scenario["max_norm"])
    return {"returned": describe(returned), **_params.observe(params)}
