"""Driver for ``clip_grad_norm(parameters, max_norm)``."""

from __future__ import annotations

from gradkata.worker.values import describe
from gradkata.worker.harness import _params, _perf


def run(funcs: dict, scenario: dict) -> dict:
    if "profile" in scenario:  # performance tier: counts only (see _perf)
        fn, limit = funcs["clip_grad_norm"], scenario["max_norm"]
        return _perf.profile(lambda params: fn(params, limit), scenario["profile"])
    params, container = _params.build(scenario)
    returned = funcs["clip_grad_norm"](container, scenario["max_norm"])
    return {"returned": describe(returned), **_params.observe(params)}
