"""Scenario builders shared by the hidden suite and the mistake probes."""

from __future__ import annotations

import numpy as np
from gradkata.katas.train_step_amp.driver import Scenario
from gradkata.worker.shapes import model_spec

BIG_SCALE = 2.0**16


def scenario(sizes=(4, 6, 2), optimizer="sgd", lr=0.1, steps=3, batch=4, max_norm=1.0, gain=1.0, stale=0.0,
             seed=0, data_seed=0, scale=BIG_SCALE, growth_interval=1, nan_step=None, frozen=(),
             unused=False) -> Scenario:
    """A small float32 tanh MLP trained on MSE through a GradScaler("cpu") whose scale starts at ``scale``
    and doubles after every ``growth_interval`` clean steps; ``nan_step`` puts a NaN in that step's inputs.
    ``frozen``: parameter indices with requires_grad off; ``unused``: a parameter the forward never uses."""
    rng = np.random.default_rng(data_seed)
    x = rng.normal(size=(steps, batch, sizes[0])).astype(np.float32)
    y = rng.normal(size=(steps, batch, sizes[-1])).astype(np.float32)
    if nan_step is not None:
        x[nan_step, 0, 0] = np.nan
    model = model_spec(sizes, seed, gain, frozen=frozen, unused=unused)
    return {"model": model,
            "optimizer": {"optimizer": optimizer, "lr": lr}, "x": x, "y": y,
            "max_norm": None if max_norm is None else float(max_norm), "scale": float(scale),
            "growth_interval": int(growth_interval), "stale": stale}
