"""Driver for ``train_step_amp(model, optimizer, scaler, loss, max_norm=1.0)``.

Scenario: {"model": {"sizes": [...], "seed": int, "gain": float} (built in
float32), "optimizer": {"optimizer": "sgd"|"momentum"|"adam", "lr": float},
"x": float32 array (steps, batch, in), "y": float32 array (steps, batch, out),
"max_norm": float or None (None: rely on the default), "scale": float (the
scaler's initial scale), "growth_interval": int, "stale": float}.
A NaN in x makes that step's loss NaN: the scaler must skip it.
"""

from __future__ import annotations

from typing import Required, TypedDict

import torch

from gradkata.worker.shapes import Array, ModelSpec, OptimizerSpec, StepsObservation
from gradkata.worker.values import describe
from gradkata.worker.harness import _training


class Scenario(TypedDict, total=False):
    model: Required[ModelSpec]  # built in float32 whatever its dtype
    optimizer: Required[OptimizerSpec]
    x: Required[Array]  # (steps, batch, features)
    y: Required[Array]
    scale: Required[float]  # the GradScaler's initial scale
    growth_interval: int
    stale: float
    max_norm: float | None  # None or absent: the function's default


class Observation(StepsObservation):
    """One entry per step (returned, params), the events in order and the norms at each optimizer step."""

    scales: list[float]  # the scaler's scale after each step
    norms_at_unscale: list[float]  # the gradient norm when unscale_ was called


def _instrument(scaler, recorder: _training.Recorder, norms_at_unscale: list[float]) -> None:
    """Log scaler calls into the recorder's events; the norm at unscale_ shows what was clipped before it."""
    original_unscale, original_step, original_update = scaler.unscale_, scaler.step, scaler.update

    def unscale_(optimizer):
        recorder.events.append("unscale")
        norms_at_unscale.append(_training.grad_norm(recorder._params))
        return original_unscale(optimizer)

    def step(optimizer, *args, **kwargs):
        recorder.events.append("scaler.step")
        return original_step(optimizer, *args, **kwargs)

    def update(*args, **kwargs):
        recorder.events.append("update")
        return original_update(*args, **kwargs)

    scaler.unscale_, scaler.step, scaler.update = unscale_, step, update


def run(funcs: dict, scenario: Scenario) -> Observation:
    fn = funcs["train_step_amp"]
    model = _training.build_model({**scenario["model"], "dtype": "float32"})
    optimizer = _training.build_optimizer(model, scenario["optimizer"])
    recorder = _training.Recorder(model, optimizer)
    scaler = torch.amp.GradScaler("cpu", init_scale=float(scenario["scale"]),
                                  growth_interval=int(scenario.get("growth_interval", 1)))
    norms_at_unscale: list[float] = []
    _instrument(scaler, recorder, norms_at_unscale)
    _training.stale_grads(model, scenario.get("stale", 0.0))
    x = torch.from_numpy(scenario["x"]).float()
    y = torch.from_numpy(scenario["y"]).float()
    returned, params, scales, starts = [], [], [], []
    for step in range(x.shape[0]):
        starts.append(len(recorder.events))
        loss = torch.nn.functional.mse_loss(model(x[step]), y[step])
        out = _training.call_step(fn, (model, optimizer, scaler, loss), scenario)
        returned.append(describe(out))
        params.append(recorder.snapshot())
        scales.append(float(scaler.get_scale()))
    return {
        "returned": returned,
        "params": params,
        "scales": scales,
        "events": recorder.events,
        "step_starts": starts,
        "norms_at_step": recorder.norms_at_step,
        "norms_at_unscale": norms_at_unscale,
    }
