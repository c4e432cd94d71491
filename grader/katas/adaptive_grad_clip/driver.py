"""Driver for ``adaptive_grad_clip(parameters, clip_factor=0.01, eps=1e-3)``.

Scenario: the parameter description of ``_params.build`` (values matter here:
the threshold is relative to each unit's weight norm), plus "clip_factor" and
"eps" (None or absent: rely on the default) and "positional" (pass them
positionally). The return value is not observed: timm's function returns None.
"""

from __future__ import annotations

from gradkata.worker.shapes import ParamsObservation, ParamsScenario
from gradkata.worker.harness import _params


class Scenario(ParamsScenario, total=False):
    """The parameters, and the keywords given (a None or absent one: the function's default)."""

    clip_factor: float | None
    eps: float | None
    positional: bool  # pass both as positional arguments


Observation = ParamsObservation


def run(funcs: dict, scenario: Scenario) -> Observation:
    params, container = _params.build(scenario)
    fn = funcs["adaptive_grad_clip"]
    given = {k: scenario[k] for k in ("clip_factor", "eps") if scenario.get(k) is not None}
    if scenario.get("positional") and len(given) == 2:
        fn(container, given["clip_factor"], given["eps"])
    else:
        fn(container, **given)
    return _params.observe(params)
