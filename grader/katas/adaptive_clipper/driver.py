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

import torch

from gradkata.worker.values import describe, to_numpy
from gradkata.worker.harness import _training


def run(funcs: dict, scenario: dict) -> dict:
    cls = funcs["AdaptiveGradientClipper"]
    model = _training.build_model(scenario["model"])
    params = list(model.parameters())
    for i in scenario.get("frozen", []):
        params[i].requires_grad_(False)
    clipper = cls(*scenario.get("args", []), **scenario.get("kwargs", {}))
    x, y = torch.from_numpy(scenario["x"]), torch.from_numpy(scenario["y"])
    lr = float(scenario.get("lr", 0.05))
    returned, grads = [], []
    for t, scale in enumerate(scenario["scales"]):
        for p in params:
            p.grad = None
        loss = float(scale) * torch.nn.functional.mse_loss(model(x[t]), y[t])
        loss.backward()
        returned.append(describe(clipper.clip(model)))
        grads.append([None if p.grad is None else to_numpy(p.grad) for p in params])
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p.sub_(lr * p.grad)
    return {"returned": returned, "grads": grads}
