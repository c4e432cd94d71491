"""Scenario builders shared by the hidden suite and the mistake probes."""

from __future__ import annotations

import numpy as np
from gradkata.worker.shapes import model_spec
from gradkata.katas.find_clipping_threshold.driver import Scenario


def scenario(sizes=(4, 6, 3), batches=5, batch=4, num_batches=None, gain=1.0, stale=0.0, seed=0, data_seed=0,
             spread=(1.0,), frozen=(), unused=False, dropout=0.0) -> Scenario:
    """A tanh MLP classifier (float64) over ``batches`` batches; ``spread`` scales the inputs batch by
    batch (cycled) so the norms differ. ``frozen``: parameter indices with requires_grad off;
    ``unused``: a parameter the forward never touches; ``dropout``: a Dropout after each hidden layer,
    and the model handed over in eval mode (as an evaluation pass leaves it)."""
    rng = np.random.default_rng(data_seed)
    x = rng.normal(size=(batches, batch, sizes[0]))
    x *= np.resize(np.asarray(spread, dtype=np.float64), batches)[:, None, None]
    y = rng.integers(0, sizes[-1], size=(batches, batch))
    model = model_spec(sizes, seed, gain, frozen=frozen, unused=unused, dropout=dropout)
    return {"model": model, "x": x, "y": y, "num_batches": num_batches, "stale": stale}
