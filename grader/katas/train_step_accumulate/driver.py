"""Driver for ``train_step_accumulate(model, optimizer, criterion, micro_batches, max_norm=1.0)``.

Scenario: {"model": {"sizes", "seed", "gain"}, "optimizer": {"optimizer", "lr"},
"criterion": "mse" | "l1" | "huber", "steps": [[{"x": array, "y": array}, ...], ...]
(one list of micro-batches per call), "max_norm": float or None (None: rely
on the default), "stale": float (gradients left over before the first call)}.

Observation: "initial" and "params" (weights before and after each call),
"returned", "events" and "step_starts" (backward / zero_grad / step in order,
and where each call's events begin), "norms_at_step" (the gradient norm that
each optimizer.step() saw).
"""

from __future__ import annotations

from typing import Required, TypedDict

import torch

from gradkata.worker.shapes import Array, ModelSpec, OptimizerSpec, StepsObservation
from gradkata.worker.values import describe
from gradkata.worker.harness import _training


class MicroBatch(TypedDict):
    x: Array
    y: Array


class Scenario(TypedDict, total=False):
    model: Required[ModelSpec]
    optimizer: Required[OptimizerSpec]
    steps: Required[list[list[MicroBatch]]]  # the micro-batches of each call
    criterion: str  # "mse" (default) | "l1" | "huber"
    stale: float
    max_norm: float | None  # None or absent: the function's default


class Observation(StepsObservation):
    """One entry per step (returned, params), the events in order and the norms at each optimizer step."""

    initial: list[Array]


CRITERIA = {"mse": torch.nn.MSELoss, "l1": torch.nn.L1Loss, "huber": torch.nn.HuberLoss}


def run(funcs: dict, scenario: Scenario) -> Observation:
    fn = funcs["train_step_accumulate"]
    model = _training.build_model(scenario["model"])
    optimizer = _training.build_optimizer(model, scenario["optimizer"])
    recorder = _training.Recorder(model, optimizer)
    _training.stale_grads(model, scenario.get("stale", 0.0))
    criterion = CRITERIA[scenario.get("criterion", "mse")]()
    initial = recorder.snapshot()
    returned, params, starts = [], [], []
    for step in scenario["steps"]:
        starts.append(len(recorder.events))
        micro_batches = [(torch.from_numpy(mb["x"]), torch.from_numpy(mb["y"])) for mb in step]
        out = _training.call_step(fn, (model, optimizer, criterion, micro_batches), scenario)
        returned.append(describe(out))
        params.append(recorder.snapshot())
    return {"returned": returned, "initial": initial, "params": params, "events": recorder.events,
            "step_starts": starts, "norms_at_step": recorder.norms_at_step}
