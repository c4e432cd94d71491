"""Driver for ``class GradientMonitor`` (log, summary, plot and its counters).

Scenario: {"shapes": [[...], ...] (one parameter per shape), "steps": [{"grads":
[array or None per parameter], "max_norm": float}], "then": "summary" | "plot"
| None}. The monitor is fed the steps in order; the observation holds what log
returned, whether it changed the gradients, the counters afterwards, and the
summary or the facts of the figure.
"""

from __future__ import annotations


import numpy as np

from ..values import describe, to_numpy

# Imported here, hence in the zygote, on purpose: matplotlib builds its font
# cache on first import (about a second) and a confined child could not write
# it; children inherit the loaded modules and a submission's own
# `import matplotlib.pyplot` costs nothing.
import matplotlib  # noqa: E402

# Never open a window. (The zygote's environment also says MPLBACKEND=Agg;
# the environment of the trusted process, and of kernels it starts, is left alone.)
matplotlib.use("Agg")
import matplotlib.pyplot  # noqa: E402,F401

MAX_AXES, MAX_LINES = 8, 16


def _model(shapes):
    import torch

    model = torch.nn.Module()
    model.params = torch.nn.ParameterList(
        [torch.nn.Parameter(torch.zeros(shape, dtype=torch.float64)) for shape in shapes])
    return model


def _set_grads(model, grads) -> None:
    import torch

    for p, g in zip(model.parameters(), grads):
        p.grad = None if g is None else torch.from_numpy(np.array(g, dtype=np.float64))


def _lines(ax) -> list[dict]:
    from matplotlib.collections import LineCollection

    lines = [{"y": np.asarray(line.get_ydata(), dtype=np.float64).ravel(), "label": str(line.get_label())[:80]}
             for line in ax.get_lines()]
    # ax.hlines draws a LineCollection: one entry per segment.
    for coll in ax.collections:
        if isinstance(coll, LineCollection):
            for seg in coll.get_segments():
                lines.append({"y": np.asarray(seg, dtype=np.float64)[:, 1].ravel(),
                              "label": str(coll.get_label())[:80]})
    return lines[:MAX_LINES]


def figure_facts(fig) -> dict:
    """Plain facts about what a plot() call returned."""
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        return {"is_figure": False, "returned": describe(fig)}
    try:
        axes = [{"lines": _lines(ax), "xlabel": ax.get_xlabel()[:80], "ylabel": ax.get_ylabel()[:80],
                 "title": ax.get_title()[:80]} for ax in fig.get_axes()[:MAX_AXES]]
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return {"is_figure": True, "axes": axes}


def run(funcs: dict, scenario: dict) -> dict:
    cls = funcs["GradientMonitor"]
    model = _model(scenario["shapes"])
    monitor = cls()
    returned, grads_changed = [], []
    for step in scenario["steps"]:
        _set_grads(model, step["grads"])
        before = [None if p.grad is None else to_numpy(p.grad) for p in model.parameters()]
        returned.append(describe(monitor.log(model, step["max_norm"])))
        after = [None if p.grad is None else to_numpy(p.grad) for p in model.parameters()]
        grads_changed.append(any((a is None) != (b is None) or (a is not None and not np.array_equal(a, b))
                                 for a, b in zip(before, after)))
    obs = {
        "returned": returned,
        "grads_changed": grads_changed,
        "norms": describe(getattr(monitor, "norms", None)),
        "clipped_count": describe(getattr(monitor, "clipped_count", None)),
        "total_count": describe(getattr(monitor, "total_count", None)),
    }
    then = scenario.get("then")
    if then == "summary":
        obs["summary"] = describe(monitor.summary())
    elif then == "plot":
        obs["plot"] = figure_facts(monitor.plot())
    return obs
