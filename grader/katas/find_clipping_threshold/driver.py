"""Driver for ``find_clipping_threshold(model, dataloader, criterion, device, num_batches=100)``.

Scenario: {"model": {"sizes": [...], "seed": int, "gain": float}, "x": array
(batches, batch, in), "y": int array (batches, batch) of class indices,
"num_batches": int or None (None: rely on the default), "stale": float}.
"""

from __future__ import annotations

from typing import Required, TypedDict

import torch

from gradkata.worker.shapes import Array, ModelSpec, Value
from gradkata.worker.values import describe
from gradkata.worker.harness import _training


class Scenario(TypedDict, total=False):
    model: Required[ModelSpec]
    x: Required[Array]  # the loader's batches of inputs, (batches, batch, features)
    y: Required[Array]  # their class labels, (batches, batch)
    stale: float  # gradients left in the model before the call
    num_batches: int | None  # None or absent: the function's default


class Observation(TypedDict):
    returned: Value
    params: list[Array]  # after the call
    batches_drawn: int
    optimizer_steps: int


def run(funcs: dict, scenario: Scenario) -> Observation:
    fn = funcs["find_clipping_threshold"]
    model = _training.build_model(scenario["model"])
    if scenario.get("stale"):
        _training.stale_grads(model, scenario["stale"])
    events: list[str] = []
    xs = list(torch.from_numpy(scenario["x"]))
    ys = list(_training.class_labels(scenario["y"]))
    loader = _training.Loader("batch", xs, ys, events)
    criterion = torch.nn.CrossEntropyLoss()
    with _training.StepWatch(model, events) as watch:
        if scenario.get("num_batches") is None:
            out = fn(model, loader, criterion, "cpu")
        else:
            out = fn(model, loader, criterion, "cpu", scenario["num_batches"])
    return {
        "returned": describe(out),
        "params": [_training.to_numpy(p) for p in model.parameters()],
        "batches_drawn": sum(e.startswith("batch:") for e in events),
        "optimizer_steps": len(watch.norms_at_step),
    }
