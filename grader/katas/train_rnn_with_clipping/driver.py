"""Driver for ``train_rnn_with_clipping(model, train_loader, val_loader, epochs, lr, max_norm, device)``.

Scenario: {"model": {"input": int, "hidden": int, "classes": int, "seed": int,
"gain": float, "dropout": float (optional, before the read-out), "frozen":
[parameter indices with requires_grad off] (optional), "unused": bool (optional:
a parameter the forward never touches, so its .grad stays None)}, "train_x": array (batches, batch, time, input), "train_y": int
array (batches, batch, time), "val_x", "val_y" (likewise), "epochs": int,
"lr": float, "max_norm": float}. A NaN in train_x makes that batch's loss NaN.

The loop builds its own optimizer, so steps are seen through a global step
hook; loaders and a forward hook log which batches were drawn and whether
autograd was on.
"""

from __future__ import annotations

from typing import Any, Required, TypedDict

import torch

# Imported here, hence in the zygote: the article's loop uses its GradientMonitor,
# whose module imports matplotlib.pyplot; a confined child could not build
# matplotlib's font cache on first import (OSError on its config dir).
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot  # noqa: E402,F401

from gradkata.worker.shapes import Array, Value
from gradkata.worker.values import describe
from gradkata.worker.harness import _training


class RNNSpec(TypedDict, total=False):
    input: Required[int]
    hidden: Required[int]
    classes: Required[int]
    seed: int
    gain: float
    dropout: float
    unused: bool  # a parameter the forward pass never uses
    frozen: list[int]


class Scenario(TypedDict):
    model: RNNSpec
    train_x: Array
    train_y: Array
    val_x: Array
    val_y: Array
    epochs: int
    lr: float
    max_norm: float


class Observation(TypedDict):
    same_model: bool  # the function returned the model it was given
    returned: Value
    params: list[Array]
    events: list[str]
    optimizers: list[str]
    lrs: list[Any]
    norms_at_step: list[float]
    norms_at_zero_grad: list[float]


class TinyRNN(torch.nn.Module):
    """A vanilla RNN with a linear read-out per time step; returns (output, hidden) like nn.RNN."""

    def __init__(self, n_in: int, hidden: int, classes: int, dropout: float = 0.0, unused: bool = False):
        super().__init__()
        self.rnn = torch.nn.RNN(n_in, hidden, batch_first=True)
        self.head = torch.nn.Linear(hidden, classes)
        # Only when asked: a Dropout module draws random masks, which every other scenario must not.
        self.drop = torch.nn.Dropout(dropout) if dropout else None
        self.spare = torch.nn.Parameter(torch.zeros(2)) if unused else None

    def forward(self, x):
        states, last = self.rnn(x)
        if self.drop is not None:
            states = self.drop(states)
        return self.head(states), last


def build_rnn(spec: RNNSpec) -> TinyRNN:
    _training.seed_cpu(spec.get("seed", 0))
    model = TinyRNN(spec["input"], spec["hidden"], spec["classes"], float(spec.get("dropout", 0.0)),
                    bool(spec.get("unused", False))).double()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(spec.get("gain", 1.0))
    params = list(model.parameters())
    for i in spec.get("frozen", []):
        params[i].requires_grad_(False)
    return model


def run(funcs: dict, scenario: Scenario) -> Observation:
    fn = funcs["train_rnn_with_clipping"]
    model = build_rnn(scenario["model"])
    events: list[str] = []
    train = _training.Loader("train", list(torch.from_numpy(scenario["train_x"])),
                             list(_training.class_labels(scenario["train_y"])), events)
    val = _training.Loader("val", list(torch.from_numpy(scenario["val_x"])),
                           list(_training.class_labels(scenario["val_y"])), events)
    handle = _training.watch_forward(model, events)
    _training.seed_cpu(scenario["model"].get("seed", 0) + 1)  # the dropout masks: the same for every loop
    try:
        with _training.StepWatch(model, events) as watch:
            returned = fn(model, train, val, int(scenario["epochs"]), float(scenario["lr"]),
                          float(scenario["max_norm"]), "cpu")
    finally:
        handle.remove()
    return {
        "same_model": returned is model,
        "returned": {"type": "model"} if returned is model else describe(returned),
        "params": [_training.to_numpy(p) for p in model.parameters()],
        "events": events,
        "optimizers": watch.kinds,
        "lrs": watch.lrs,
        "norms_at_step": watch.norms_at_step,
        "norms_at_zero_grad": watch.norms_at_zero_grad,
    }
