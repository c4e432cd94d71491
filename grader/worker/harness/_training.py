"""Seeded models, data and an instrumented optimizer for the train-step katas.

The optimizer is instrumented on the instance (not subclassed), so a student's
``optimizer.step()`` is seen whichever way it is reached; the log records the
order of backward, zero_grad and step, and the gradient norm at step time.
"""

from __future__ import annotations

import numpy as np

from ..values import to_numpy


def build_model(spec: dict):
    import torch

    torch.manual_seed(spec.get("seed", 0))
    sizes = spec["sizes"]
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*layers).double()
    gain = spec.get("gain", 1.0)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(gain)
    return model


def build_optimizer(model, spec: dict):
    import torch

    kind, lr = spec.get("optimizer", "sgd"), spec.get("lr", 0.1)
    if kind == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr)
    if kind == "momentum":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    return torch.optim.SGD(model.parameters(), lr=lr)


def grad_norm(params) -> float:
    total = 0.0
    for p in params:
        if p.grad is not None:
            total += float((p.grad.detach().double() ** 2).sum())
    return total**0.5


class Recorder:
    """Logs what happened to one model and optimizer, in order."""

    def __init__(self, model, optimizer):
        self.events: list[str] = []
        self.norms_at_step: list[float] = []
        params = list(model.parameters())
        self._params = params
        first = params[0]
        first.register_post_accumulate_grad_hook(lambda p: self.events.append("backward"))
        original_step, original_zero = optimizer.step, optimizer.zero_grad

        def step(*args, **kwargs):
            self.events.append("step")
            self.norms_at_step.append(grad_norm(self._params))
            return original_step(*args, **kwargs)

        def zero_grad(*args, **kwargs):
            self.events.append("zero_grad")
            return original_zero(*args, **kwargs)

        optimizer.step = step
        optimizer.zero_grad = zero_grad

    def snapshot(self) -> list[np.ndarray]:
        return [to_numpy(p) for p in self._params]


def stale_grads(model, value: float) -> None:
    """Leave last step's gradients behind, as a training loop would."""
    import torch

    for p in model.parameters():
        p.grad = torch.full_like(p, value)
