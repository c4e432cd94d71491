"""Seeded models, data and an instrumented optimizer for the train-step katas.

The optimizer is instrumented on the instance (not subclassed), so a student's
``optimizer.step()`` is seen whichever way it is reached; the log records the
order of backward, zero_grad and step, and the gradient norm at step time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from ..shapes import ClipperObservation, ClipperScenario
from ..values import describe, to_numpy

if TYPE_CHECKING:  # only for annotations: torch is imported lazily, inside the functions
    import torch


_WARM: list[bool] = []


def warm_up() -> None:
    """Build and step one optimizer, once per process: the first imports about
    800 modules (torch._dynamo among them), about 2 s that no child should pay."""
    import torch

    if not _WARM:
        p = torch.nn.Parameter(torch.ones(1))
        p.grad = torch.ones(1)
        torch.optim.SGD([p], lr=0.1).step()
        _WARM.append(True)


def seed_cpu(seed: int) -> None:
    """Seed the CPU generator the models are initialised from.

    ``torch.manual_seed`` also queues lazy seeding of CUDA, XPU and MTIA, each
    with a formatted stack trace: 1.5 ms a call, a fifth of a training scenario.
    """
    import torch

    torch.default_generator.manual_seed(seed)


def build_model(spec: Mapping[str, Any]):
    import torch

    seed_cpu(spec.get("seed", 0))
    sizes = spec["sizes"]
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.Tanh())
    # float64 unless the scenario asks otherwise (AMP needs float32 gradients).
    model = torch.nn.Sequential(*layers).to(getattr(torch, spec.get("dtype", "float64")))
    gain = spec.get("gain", 1.0)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(gain)
    # Frozen parameters (fine-tuning): requires_grad off, so their .grad stays None.
    params = list(model.parameters())
    for i in spec.get("frozen", []):
        params[i].requires_grad_(False)
    return model


def build_optimizer(model, spec: Mapping[str, Any]):
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
        # A frozen parameter gets no gradient, so no hook: watch the first trainable one.
        first = next((p for p in params if p.requires_grad), params[0])
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


# --- Loops that build their own optimizer (find_clipping_threshold, train_rnn_with_clipping) ---

class Loader:
    """A list-like loader of (x, y) batches that notes each batch it hands out.

    ``len()`` works as on a DataLoader; every pass re-iterates from the start.
    """

    def __init__(self, name: str, xs, ys, events: list[str]):
        self.name, self._xs, self._ys, self._events = name, xs, ys, events

    def __len__(self) -> int:
        return len(self._xs)

    def __iter__(self):
        for i in range(len(self._xs)):
            self._events.append(f"{self.name}:{i}")
            yield self._xs[i], self._ys[i]


class StepWatch:
    """Sees every ``optimizer.step()`` and ``zero_grad()`` while active, also of
    optimizers the code under test creates itself (a global step pre-hook, and
    ``zero_grad`` wrapped on the classes for the duration)."""

    def __init__(self, model, events: list[str]):
        self._params = list(model.parameters())
        self.events = events
        self.kinds: list[str] = []
        self.lrs: list[float] = []
        self.norms_at_step: list[float] = []
        self.norms_at_zero_grad: list[float] = []
        self._undo: list = []

    def _on_step(self, optimizer, args, kwargs) -> None:
        self.events.append("step")
        self.kinds.append(type(optimizer).__name__)
        self.lrs.append(float(optimizer.param_groups[0].get("lr", float("nan"))))
        self.norms_at_step.append(grad_norm(self._params))

    def _wrap_zero_grad(self, cls) -> None:
        original = cls.__dict__["zero_grad"]
        watch = self

        def zero_grad(self_, *args, **kwargs):
            watch.events.append("zero_grad")
            watch.norms_at_zero_grad.append(grad_norm(watch._params))
            return original(self_, *args, **kwargs)

        cls.zero_grad = zero_grad
        self._undo.append(lambda: setattr(cls, "zero_grad", original))

    def __enter__(self) -> "StepWatch":
        import torch
        from torch.optim.optimizer import register_optimizer_step_pre_hook

        handle = register_optimizer_step_pre_hook(self._on_step)
        self._undo.append(handle.remove)
        self._wrap_zero_grad(torch.optim.Optimizer)
        self._wrap_zero_grad(torch.nn.Module)
        return self

    def __exit__(self, *exc) -> None:
        while self._undo:
            self._undo.pop()()


def watch_forward(model, events: list[str]):
    """Note each forward pass and whether autograd was recording it."""
    import torch

    def hook(module, args):
        events.append("forward" if torch.is_grad_enabled() else "forward:no_grad")

    return model.register_forward_pre_hook(hook)


def class_labels(array) -> "torch.Tensor":
    """Integer class labels (int64 tensor) from a plain array."""
    import torch

    return torch.from_numpy(np.asarray(array, dtype=np.int64))


def call_step(fn, args: tuple, scenario: Mapping[str, Any]):
    """Call a train-step function with the scenario's max_norm, or with none so
    that the function's own default (1.0) is what gets tested."""
    if scenario.get("max_norm") is None:
        return fn(*args)
    return fn(*args, scenario["max_norm"])


def clipper_run(cls, method: str, scenario: ClipperScenario) -> ClipperObservation:
    """Train a seeded model on the scenario's batches, calling ``method`` of a clipper
    built from ``cls`` after every backward (the adaptive-clipper katas).

    Observation: ``{"returned": [what each call returned], "grads": [the gradients
    after each call, per parameter]}``.
    """
    import torch

    model = build_model(scenario["model"])
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
        returned.append(describe(getattr(clipper, method)(model)))
        grads.append([None if p.grad is None else to_numpy(p.grad) for p in params])
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p.sub_(lr * p.grad)
    return {"returned": returned, "grads": grads}
