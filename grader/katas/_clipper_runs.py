"""Scenarios of the clipper-class katas (adaptive_clipper, zclip): one seeded training run.

Their driver is ``gradkata.worker.harness._training.clipper_run``; their suites
and catalogues build its scenarios here, so the format has one writer.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from gradkata.worker.shapes import ClipperScenario


def scenario(scales: Iterable[float], kwargs: dict | None = None, args: list | None = None, *, seed: int = 0,
             sizes: tuple[int, ...] = (3, 4, 2), frozen: list[int] | None = None, lr: float = 0.05,
             same_batch: bool = False) -> ClipperScenario:
    """A run of ``len(scales)`` steps: the loss of step t is ``scales[t] * mse`` on seeded data
    (``same_batch``: every step on the first batch, so only the scale moves the norm);
    the clipper is built with ``args`` and ``kwargs``; ``frozen`` parameters get no gradient."""
    scales = [float(v) for v in scales]
    rng = np.random.default_rng(seed)
    n, batch = len(scales), 4
    x, y = rng.normal(size=(n, batch, sizes[0])), rng.normal(size=(n, batch, sizes[-1]))
    if same_batch:
        x, y = np.repeat(x[:1], n, axis=0), np.repeat(y[:1], n, axis=0)
    s: ClipperScenario = {"model": {"sizes": list(sizes), "seed": seed, "gain": 1.0}, "x": x, "y": y,
                         "scales": scales, "lr": lr, "kwargs": dict(kwargs or {}), "args": list(args or [])}
    if frozen:
        s["frozen"] = list(frozen)
    return s
