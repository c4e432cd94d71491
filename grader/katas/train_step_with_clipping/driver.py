"""Driver for ``train_step_with_clipping(model, optimizer, loss, max_norm=1.0)``.

Scenario: {"model": {"sizes": [...], "seed": int, "gain": float},
"optimizer": {"optimizer": "sgd"|"momentum"|"adam", "lr": float},
"x": array (steps, batch, in), "y": array (steps, batch, out),
"max_norm": float or None (None: rely on the default), "stale": float}.

Observation: "initial" (the weights before the first call), "params" (the
weights after each call), "returned" (each call's return value), "events"
and "step_starts" (the order of backward / zero_grad / step, and where each
call's events begin), "norms_at_step" (the gradient norm at each step()).
"""

from __future__ import annotations

from typing import Required, TypedDict

import torch

from gradkata.worker.shapes import Array, ModelSpec, OptimizerSpec, StepsObservation
from gradkata.worker.values import describe
from gradkata.worker.harness import _training


class Scenario(TypedDict, total=False):
    model: Required[ModelSpec]
    optimizer: Required[OptimizerSpec]
    x: Required[Array]  # (steps, batch, features): one batch per step
    y: Required[Array]
    stale: float  # gradients left from the step before
    max_norm: float | None  # None or absent: the function's default


class Observation(StepsObservation):
    """One entry per step (returned, params), the events in order and the norms at each optimizer step."""

    initial: list[Array]  # the parameters before the first step


def run(funcs: dict, scenario: Scenario) -> Observation:
    fn = funcs["train_step_with_clipping"]
    model = _training.build_model(scenario["model"])
    optimizer = _training.build_optimizer(model, scenario["optimizer"])
    recorder = _training.Recorder(model, optimizer)
    _training.stale_grads(model, scenario.get("stale", 0.0))
    initial = recorder.snapshot()
    x = torch.from_numpy(scenario["x"])
    y = torch.from_numpy(scenario["y"])
    returned, params, starts = [], [], []
    for step in range(x.shape[0]):
        starts.append(len(recorder.events))
        loss = torch.nn.functional.mse_loss(model(x[step]), y[step])
        out = _training.call_step(fn, (model, optimizer, loss), scenario)
        returned.append(describe(out))
        params.append(recorder.snapshot())
    return {
        "returned": returned,
        "initial": initial,
        "params": params,
        "events": recorder.events,
        "step_starts": starts,
        "norms_at_step": recorder.norms_at_step,
    }
