"""Driver for ``class AdaptiveGradientClipper(percentile=90, warmup_steps=100, history_size=...)``.

One clipper is built from the scenario's arguments and drives a seeded model
through the steps: at each, fresh gradients of ``scale[t] * mse`` are computed,
``clipper.clip(model)`` is called, what it returned and the gradients it left
are recorded, then the harness takes a plain SGD step (so later gradients
depend on the earlier clipping).

Scenario: {"model": {"sizes", "seed", "gain"}, "x": (steps, batch, in),
"y": (steps, batch, out), "scales": [float] * steps, "lr": float,
"args": [positional constructor arguments], "kwargs": {name: value},
"frozen": [indices of parameters that get no gradient]}.
"""

from __future__ import annotations

from gradkata.worker.shapes import ClipperObservation, ClipperScenario
from gradkata.worker.harness import _training


# A seeded training run that calls the clipper's ``clip(model)`` after every backward.
Scenario = ClipperScenario
Observation = ClipperObservation


def run(funcs: dict, scenario: Scenario) -> Observation:
    cls = funcs["AdaptiveGradientClipper"]
    return _training.clipper_run(cls, "clip", scenario)
