"""Driver for ``clip_grad_value(parameters, clip_value)``."""

from __future__ import annotations

from gradkata.worker.values import describe
from gradkata.worker.harness import _params, _perf


def run(funcs: dict, scenario: dict) -> dict:
    if "profile" in scenario:  # performance tier: counts only (see _perf)
        fn, limit = funcs["clip_grad_value"], scenario["clip_value"]
        return _perf.profile(lambda params: fn(params, limit), scenario["profile"])
    params, container = _params.build(scenario)
    returned = funcs["clip_grad_value"](container, scenario["clip_value"])
    return {"returned": describe(returned), **_params.observe(params)}
