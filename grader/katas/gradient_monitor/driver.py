"""Driver for ``class GradientMonitor`` (log, summary, plot and its counters).

Scenario: {"shapes": [[...], ...] (one parameter per shape), "steps": [{"grads":
[array or None per parameter], "max_norm": float}], "then": "summary" | "plot"
| None}. The monitor is fed the steps in order; the observation holds what log
returned, whether it changed the gradients, the counters afterwards, and the
summary or the facts of the figure.

The seed's monitor prints its summary and shows its plot (plt.show()) rather
than returning them; both are observed as they are: a summary that returns no
dict is read from the printed lines (labelled "steps", "rate", "mean", "max"),
and a plot that returns no Figure is the figure it showed, or the current
pyplot figure. ``summary_from`` / ``plot_from`` say which.
"""

from __future__ import annotations


import contextlib
import io
import re
import sys
from typing import Any, Required, TypedDict

import numpy as np

from gradkata.worker.shapes import Array, Value
from gradkata.worker.values import describe, to_numpy

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


class Step(TypedDict):
    grads: list[Array | None]  # one per parameter (None: no gradient)
    max_norm: float


class Scenario(TypedDict, total=False):
    shapes: Required[list[list[int]]]  # one parameter per shape
    steps: Required[list[Step]]  # fed to log() in order
    then: str | None  # "summary" | "plot" | None


class Logged(TypedDict):
    returned: list[Value]  # what each log() returned
    grads_changed: list[bool]  # whether each log() changed the gradients
    norms: Value
    clipped_count: Value
    total_count: Value


class Summarised(TypedDict, total=False):
    """With then="summary" (every key but printed_resolution)."""

    summary: Value
    summary_from: str  # "returned" | "printed"
    printed_resolution: dict[str, float]  # per statistic read from the printed text
    summary_view: Value


class Plotted(TypedDict, total=False):
    """With then="plot" (every key): the facts of the figure."""

    plot: dict[str, Any]
    plot_from: str  # "returned" | "shown" | "pyplot"
    plot_view: dict[str, bool]


class Observation(Logged, Summarised, Plotted, total=False):
    """What log() did at each step and the counters afterwards; the summary or the plot when asked."""


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


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?")
# Which statistic a printed line reports, by the first label it contains.
_LABELS = (("total_steps", ("step",)), ("clip_rate", ("rate", "clipped", "clipping")), ("mean", ("mean", "avg",
           "average")), ("max", ("max", "largest")))


def _resolution(token: str) -> float:
    """Half a unit in the last printed digit: how far the printed number may be from the value."""
    mantissa, _, exponent = token.rstrip("%").lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (-decimals) * 10.0 ** (int(exponent) if exponent else 0)


def read_printed_summary(text: str) -> tuple[dict, dict]:
    """The statistics a printed summary shows, and the resolution each was printed with."""
    stats: dict[str, float] = {}
    resolution: dict[str, float] = {}
    for line in text.lower().splitlines():
        key = next((k for k, words in _LABELS if k not in stats and any(w in line for w in words)), None)
        numbers = _NUMBER.findall(line.partition(":")[2] or line)
        if key is None or not numbers:
            continue
        token = numbers[0]
        value, res = float(token.rstrip("%")), _resolution(token)
        if token.endswith("%"):
            value, res = value / 100.0, res / 100.0
        stats[key], resolution[key] = value, res
    return stats, resolution


def _three_digits(desc: dict) -> dict:
    """A summary as the diagnosis compares it: each number to three significant
    digits, so that printed statistics ('66.7%', '5.1667') and returned ones agree."""
    if desc.get("type") != "dict":
        return desc
    out: dict[str, Any] = {}
    for key, item in desc["items"].items():
        value = item.get("value") if isinstance(item, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = float(f"{float(value):.3g}") if np.isfinite(value) else float(value)
        else:
            out[key] = None  # not a number: no statistic to compare
    return describe(out)


def _summary(monitor) -> Summarised:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        returned = monitor.summary()
    text = printed.getvalue()
    sys.stdout.write(text)  # the student still sees it in the output log
    obs: Summarised
    if isinstance(returned, dict):
        obs = {"summary": describe(returned), "summary_from": "returned"}
    else:
        stats, resolution = read_printed_summary(text[:20_000])
        obs = ({"summary": describe(stats), "summary_from": "printed", "printed_resolution": resolution} if stats
               else {"summary": describe(returned), "summary_from": "returned"})
    obs["summary_view"] = _three_digits(obs["summary"])
    return obs


def _expected_levels(scenario: Scenario) -> tuple[list[float], float, float]:
    """The norm history, its mean and the last threshold, from the scenario itself."""
    norms = [float(np.sqrt(sum(float(np.sum(np.square(g))) for g in step["grads"] if g is not None)))
             for step in scenario["steps"]]
    return norms, float(np.mean(norms)) if norms else float("nan"), float(scenario["steps"][-1]["max_norm"]) \
        if scenario["steps"] else float("nan")


def _plot_view(facts: dict, scenario: Scenario) -> dict[str, bool]:
    """Which of the three expected lines the figure has: what the diagnosis compares
    (labels, colours and titles differ between correct plots)."""
    if not facts.get("is_figure"):
        return {"figure": False}
    norms, mean, threshold = _expected_levels(scenario)
    lines = [np.asarray(line["y"], dtype=np.float64) for ax in facts["axes"] for line in ax["lines"]]

    def level(y, v):
        return bool(y.size) and bool(np.allclose(y, v, rtol=1e-6, atol=1e-9))

    return {"figure": True,
            "history": any(y.size == len(norms) and np.allclose(y, norms, rtol=1e-6, atol=1e-9) for y in lines),
            "mean": any(level(y, mean) for y in lines), "threshold": any(level(y, threshold) for y in lines)}


def _plot(monitor, scenario: Scenario) -> Plotted:
    import matplotlib.pyplot as plt

    shown = []
    real_show = plt.show
    plt.show = lambda *a, **k: shown.append(plt.gcf())  # observe what plt.show() would display
    try:
        plt.close("all")
        returned = monitor.plot()
    finally:
        plt.show = real_show
    from matplotlib.figure import Figure

    if isinstance(returned, Figure):
        fig, source = returned, "returned"
    elif shown:
        fig, source = shown[-1], "shown"
    elif plt.get_fignums():
        fig, source = plt.gcf(), "pyplot"
    else:
        fig, source = returned, "returned"
    try:
        facts = figure_facts(fig)
        return {"plot": facts, "plot_from": source, "plot_view": _plot_view(facts, scenario)}
    finally:
        plt.close("all")


def run(funcs: dict, scenario: Scenario) -> Observation:
    cls = funcs["GradientMonitor"]
    model = _model(scenario["shapes"])
    monitor = cls()
    returned, grads_changed = [], []
    for step in scenario["steps"]:
        _set_grads(model, step["grads"])
        before = [None if p.grad is None else to_numpy(p.grad) for p in model.parameters()]
        returned.append(describe(monitor.log(model, step["max_norm"])))
        after = [None if p.grad is None else to_numpy(p.grad) for p in model.parameters()]
        grads_changed.append(any((a is None) != (b is None) or (a is not None and b is not None and not np.array_equal(a, b))
                                 for a, b in zip(before, after)))
    obs: Logged = {
        "returned": returned,
        "grads_changed": grads_changed,
        "norms": describe(getattr(monitor, "norms", None)),
        "clipped_count": describe(getattr(monitor, "clipped_count", None)),
        "total_count": describe(getattr(monitor, "total_count", None)),
    }
    then = scenario.get("then")
    if then == "summary":
        return {**obs, **_summary(monitor)}
    if then == "plot":
        return {**obs, **_plot(monitor, scenario)}
    return {**obs}
