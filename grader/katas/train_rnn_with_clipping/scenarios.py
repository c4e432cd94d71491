"""Scenario builders shared by the hidden suite and the mistake probes."""

from __future__ import annotations

import numpy as np
from gradkata.katas.train_rnn_with_clipping.driver import RNNSpec, Scenario


def scenario(n_in=3, hidden=4, classes=3, batches=3, batch=2, time=4, val_batches=1, epochs=2, lr=0.05,
             max_norm=0.3, gain=1.0, seed=0, data_seed=0, nan_batch=None, dropout=0.0, frozen=(),
             unused=False) -> Scenario:
    """A seeded float64 RNN classifier on random sequences; ``nan_batch`` puts a NaN into that training
    batch, so its loss is NaN in every epoch."""
    rng = np.random.default_rng(data_seed)
    train_x = rng.normal(size=(batches, batch, time, n_in))
    if nan_batch is not None:
        train_x[nan_batch, 0, 0, 0] = np.nan
    model: RNNSpec = {"input": n_in, "hidden": hidden, "classes": classes, "seed": seed, "gain": gain}
    if dropout:
        model["dropout"] = float(dropout)
    if frozen:
        model["frozen"] = list(frozen)
    if unused:
        model["unused"] = True
    return {"model": model,
            "train_x": train_x, "train_y": rng.integers(0, classes, size=(batches, batch, time)),
            "val_x": rng.normal(size=(val_batches, batch, time, n_in)),
            "val_y": rng.integers(0, classes, size=(val_batches, batch, time)),
            "epochs": epochs, "lr": lr, "max_norm": float(max_norm)}
