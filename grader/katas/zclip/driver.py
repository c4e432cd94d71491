"""Driver for ``class ZClip(alpha=0.97, z_thresh=2.5, max_grad_norm=1.0, warmup_steps=25)``.

One clipper is built from the scenario's arguments and drives a seeded model
through the steps: at each, fresh gradients of ``scale[t] * mse`` are computed,
``clipper.step(model)`` is called, what it returned and the gradients it left
are recorded, then the harness takes a plain SGD step (so later gradients
depend on the earlier clipping).

Scenario: {"model": {"sizes", "seed", "gain"}, "x": (steps, batch, in),
"y": (steps, batch, out), "scales": [float] * steps, "lr": float,
"args": [positional constructor arguments], "kwargs": {name: value},
"frozen": [indices of parameters that get no gradient]}.
"""

from __future__ import annotations

from typing import Any, Required, TypedDict

import torch

from gradkata.worker.shapes import ClipperObservation, ClipperScenario, Profile, ProfileSpec
from gradkata.worker.harness import _perf, _training


# A seeded training run that calls the clipper's ``step(model)`` after every backward.
Scenario = ClipperScenario


class Profiled(TypedDict, total=False):
    """A performance-tier measurement: a fresh ``ZClip(**kwargs)``'s two steps on generated parameters."""

    profile: Required[ProfileSpec]
    kwargs: dict[str, Any]


Observation = ClipperObservation


def _two_steps(cls, kwargs: dict):
    """What the performance tier measures: a fresh clipper's warm-up step, then one z-scored step."""

    def call(params: list) -> None:
        model = torch.nn.Module()
        model.weights = torch.nn.ParameterList(params)
        clipper = cls(**kwargs)
        clipper.step(model)
        clipper.step(model)

    return call


def run(funcs: dict, scenario: Scenario | Profiled) -> Observation | Profile:
    cls = funcs["ZClip"]
    if "profile" in scenario:  # performance tier: counts only (see _perf)
        return _perf.profile(_two_steps(cls, scenario.get("kwargs", {})), scenario["profile"])
    return _training.clipper_run(cls, "step", scenario)
