"""Driver for ``clip_grad_norm(parameters, max_norm)``."""

from __future__ import annotations

from typing import Required, TypedDict, final

from gradkata.worker.shapes import ParamsObservation, ParamsScenario, Profile, ProfileSpec, Value
from gradkata.worker.values import describe
from gradkata.worker.harness import _params, _perf


@final
class Scenario(ParamsScenario, total=False):
    """The parameters (:class:`ParamsScenario`) and ``max_norm``."""

    max_norm: Required[float]


class Profiled(TypedDict):
    """A performance-tier measurement on generated parameters."""

    profile: ProfileSpec
    max_norm: float



class Observation(ParamsObservation):
    returned: Value


def run(funcs: dict, scenario: Scenario | Profiled) -> Observation | Profile:
    if "profile" in scenario:  # performance tier: counts only (see _perf)
        fn, limit = funcs["clip_grad_norm"], scenario["max_norm"]
        return _perf.profile(lambda params: fn(params, limit), scenario["profile"])
    params, container = _params.build(scenario)
    returned = funcs["clip_grad_norm"](container, scenario["max_norm"])
    observed = _params.observe(params)
    return Observation(returned=describe(returned), grads=observed["grads"], params=observed["params"])
