"""Scenario builders shared by the hidden suite and the mistake probes."""

from __future__ import annotations

import numpy as np
from gradkata.katas.gradient_monitor.driver import Scenario, Step


def scenario(grads: list[list], max_norms, then=None) -> Scenario:
    """Explicit gradients: ``grads[step][param]`` (None: no gradient); one max_norm per step, or one for all."""
    n = len(grads)
    max_norms = list(max_norms) if isinstance(max_norms, (list, tuple)) else [max_norms] * n
    # Each parameter's shape is that of its first gradient that is not None.
    shapes = [next((list(np.shape(step[i])) for step in grads if step[i] is not None), [2])
              for i in range(len(grads[0]))] if grads else [[2]]
    steps: list[Step] = [{"grads": [None if g is None else np.asarray(g, dtype=np.float64) for g in step],
              "max_norm": float(m)} for step, m in zip(grads, max_norms)]
    return {"shapes": shapes, "steps": steps, "then": then}


def random_scenario(shapes, scales, max_norms, then=None, seed=0, none_every=0) -> Scenario:
    """One step per entry of ``scales``: Gaussian gradients times that scale."""
    rng = np.random.default_rng(seed)
    grads = []
    for k, scale in enumerate(scales):
        step = [rng.normal(size=shape) * scale for shape in shapes]
        if none_every and k % none_every == 0:
            step[-1] = None
        grads.append(step)
    return scenario(grads, max_norms, then) | {"shapes": [list(s) for s in shapes]}
