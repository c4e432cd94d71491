"""Hidden suite: GradientMonitor against the reference and a torch-based oracle.

Judged: what log returns (the pre-clip global norm) and that it leaves the
gradients alone, the counters and norm history, the summary, and the facts of
the figure plot() makes (norm history, mean and threshold lines).

Interview tier: the article's monitor as it is written -- its summary may print
the statistics instead of returning a dict (read from the printed lines, at
their printed precision) and its plot may call plt.show() instead of returning
the Figure (the figure shown is observed). Parity tier: a summary before any
step, and a threshold line at max_norm in the plot.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradkata.katas.gradient_monitor.scenarios import random_scenario, scenario
from gradkata._errors import GraderBug
from gradkata.suitekit import (Mismatch, close, fmt_array, fmt_num, fmt_value, number, points, trusted_number,
                               visible)
from gradkata.katas.gradient_monitor.driver import Observation, Scenario

KATA = "gradient_monitor"
SUMMARY_KEYS = ("total_steps", "clip_rate", "mean", "max")


def _calls(s: Scenario, upto: int | None = None) -> str:
    steps = s["steps"][:upto] if upto is not None else s["steps"]
    shown = []
    for st_ in steps[:3]:
        grads = ", ".join("None" if g is None else fmt_array(g, 3) for g in st_["grads"][:3])
        shown.append(f"log(model with grads [{grads}], max_norm={fmt_num(st_['max_norm'])})")
    more = f", … ({len(steps)} log calls)" if len(steps) > 3 else ""
    return "m = GradientMonitor(); " + ("; ".join(f"m.{c}" for c in shown) if shown else "no log calls") + more


def _numbers(desc: dict) -> list[float] | None:
    if desc.get("type") in ("list", "tuple"):
        values = [number(item) for item in desc["items"]]
        floats = [v for v in values if v is not None]
        return floats if len(floats) == len(values) else None
    if desc.get("type") in ("ndarray", "tensor"):
        return [float(v) for v in np.asarray(desc["value"]).ravel()]
    return None


def _trusted_numbers(desc: dict) -> list[float]:
    """The reference's list of numbers: anything else is the grader's error, not the student's."""
    values = _numbers(desc)
    if values is None:
        raise GraderBug(f"grader bug: the reference returned {desc.get('type')!r}, not a list of numbers")
    return values


def _check_log(s: Scenario, got: Observation, want: dict, oracle: dict | None) -> None:
    for k, (g, w) in enumerate(zip(got["returned"], want["returned"])):
        call = _calls(s, k + 1)
        value, expected = number(g), number(w)
        torch_says = f" (PyTorch gives {fmt_num(number(oracle['returned'][k]))})" if oracle else ""
        if got["grads_changed"][k]:
            raise Mismatch(f"Called {call}. The last log call changed the gradients; a monitor only reads them "
                           "(clipping is the training loop's job, after logging).")
        if value is None or not close(value, expected):
            shown = fmt_value(g) if value is None else fmt_num(value)
            raise Mismatch(f"Called {call}. The last log returned {shown}, expected the global gradient norm "
                           f"before clipping, {fmt_num(expected)}{torch_says}.")
    call = _calls(s)
    norms, want_norms = _numbers(got["norms"]), _trusted_numbers(want["norms"])
    if norms is None or len(norms) != len(want_norms) or not close(norms, want_norms):
        raise Mismatch(f"Called {call}. Afterwards m.norms is {fmt_value(got['norms'])}, expected "
                       f"{fmt_array(want_norms)} (every logged norm, oldest first).")
    for name in ("total_count", "clipped_count"):
        value, expected = number(got[name]), trusted_number(want[name])
        if value != expected:
            hint = ""
            if name == "clipped_count" and value is not None and value > expected:
                hint = (" A step whose norm equals max_norm is not clipped: count it only when "
                        "norm > max_norm.")
            raise Mismatch(f"Called {call}. Afterwards m.{name} is {fmt_value(got[name])}, expected "
                           f"{fmt_num(expected)}.{hint}")


def _printed_close(value: float, expected: float, resolution: float) -> bool:
    return abs(value - expected) <= resolution * (1 + 1e-9) + 1e-12 or close(value, expected)


def _check_summary(s: Scenario, got: Observation, want: dict) -> None:
    call = _calls(s) + "; m.summary()"
    summary = got["summary"]
    printed = got.get("summary_from") == "printed"
    resolution = got.get("printed_resolution") or {}
    if summary.get("type") != "dict":
        raise Mismatch(f"Called {call}. Returned {fmt_value(summary)} and printed no summary lines, expected a "
                       f"dict with keys {', '.join(SUMMARY_KEYS)} or printed lines such as 'Total steps: 3', "
                       "'Clipping rate: 66.7%', 'Mean norm: 5.1667', 'Max norm: 10.0000'.")
    for key in SUMMARY_KEYS:
        expected = trusted_number(want["summary"]["items"][key])
        if key not in summary["items"]:
            where = "The printed summary has no line for" if printed else "The dict has no key"
            raise Mismatch(f"Called {call}. {where} {key!r}; expected {fmt_num(expected)} there "
                           f"(keys: {', '.join(SUMMARY_KEYS)}).")
        value = number(summary["items"][key])
        if not s["steps"] and key in ("mean", "max"):
            continue  # no norms yet: any value (NaN, 0, None) is acceptable
        if printed and value is not None and _printed_close(value, expected, float(resolution.get(key, 0.0))):
            continue
        if value is None or not close(value, expected):
            shown = fmt_value(summary["items"][key]) if value is None else fmt_num(value)
            hint = ""
            if key == "clip_rate" and value is not None and expected and close(value, 100 * expected):
                hint = " That is a percentage; return the fraction (print it with :.1% if you like)."
            what = f"The printed {key}" if printed else f"summary()[{key!r}]"
            raise Mismatch(f"Called {call}. {what} is {shown}, expected {fmt_num(expected)}.{hint}")


def _has_line(lines: list[dict], y: list[float]) -> bool:
    return any(line["y"].size == len(y) and close(line["y"], y) for line in lines)


def _has_level(lines: list[dict], level: float) -> bool:
    return any(line["y"].size and close(line["y"], np.full(line["y"].size, level)) for line in lines)


def _check_plot(s: Scenario, got: Observation, want: dict, threshold_line: bool) -> None:
    call = _calls(s) + "; m.plot()"
    facts = got["plot"]
    if not facts["is_figure"]:
        raise Mismatch(f"Called {call}. Returned {fmt_value(facts['returned'])} and drew no figure, expected a "
                       "matplotlib Figure (e.g. fig, ax = plt.subplots(); ...; return fig, or plt.show() it).")
    lines = [line for ax in facts["axes"] for line in ax["lines"]]
    norms = _trusted_numbers(want["norms"])
    if not _has_line(lines, norms):
        raise Mismatch(f"Called {call}. The figure has no line through the norm history {fmt_array(norms)}.")
    mean = float(np.mean(norms))
    if not _has_level(lines, mean):
        raise Mismatch(f"Called {call}. The figure has no horizontal line at the mean norm {fmt_num(mean)} "
                       "(ax.axhline(mean)).")
    if not threshold_line:
        return
    threshold = s["steps"][-1]["max_norm"]
    if not _has_level(lines, threshold):
        raise Mismatch(f"Called {call}. The figure has no horizontal line at the clipping threshold "
                       f"max_norm={fmt_num(threshold)} (the max_norm of the last log call).")


def check(judge, s: Scenario, threshold_line: bool = False) -> None:
    want, oracle = judge.reference(s), judge.oracle(s)
    if oracle is not None:
        assert close([number(r) for r in want["returned"]], [number(r) for r in oracle["returned"]]), \
            "grader bug: reference != torch"
    got: Observation = judge.candidate(s)
    _check_log(s, got, want, oracle)
    if s.get("then") == "summary":
        _check_summary(s, got, want)
    elif s.get("then") == "plot":
        _check_plot(s, got, want, threshold_line)


WORKED = [[[3.0, 4.0]], [[0.3, 0.4]], [[6.0, 8.0]]]


@visible
@points(2)
def test_three_steps_and_summary(judge):
    """Norms 5, 0.5 and 10 with max_norm 1: two of three steps clipped, mean 5.1667, max 10."""
    check(judge, scenario(WORKED, 1.0, then="summary"))


@visible
@points(1)
def test_plot_of_three_steps(judge):
    """The same three steps: plot() draws (returns, or shows) a Figure with the norms and a mean line at
    5.1667."""
    check(judge, scenario(WORKED, 1.0, then="plot"))


@points(1)
def test_norm_equal_to_max_norm_is_not_clipped(judge):
    check(judge, scenario([[[3.0, 4.0]], [[6.0, 8.0]]], [5.0, 10.0], then="summary"))


@points(1)
def test_log_reads_but_does_not_clip(judge):
    check(judge, random_scenario([(3, 2), (3,)], [5.0, 20.0, 0.1], 1.0, then="summary"))


@points(1)
def test_parameters_without_gradients_are_skipped(judge):
    check(judge, scenario([[[3.0, 4.0], None], [None, [12.0]]], 6.5, then="summary"))


@pytest.mark.tier("parity")
@points(1)
def test_summary_before_any_step(judge):
    """Production: a summary called before the first step (or after a loop that broke at once) must not
    crash: clip rate 0, no mean or max yet."""
    check(judge, scenario([], 1.0, then="summary"))


@pytest.mark.tier("parity")
@points(1)
def test_threshold_line_follows_the_last_max_norm(judge):
    """Production: the plot also shows the clipping threshold, the max_norm of the last log call."""
    check(judge, random_scenario([(4,), (2, 2)], [1.0, 3.0, 0.5, 2.0], [0.5, 1.0, 2.0, 4.0], then="plot", seed=3),
          threshold_line=True)


@st.composite
def monitor_scenarios(draw) -> Scenario:
    shapes = draw(st.sampled_from([[(3,)], [(2, 3), (3,)], [(4, 2), (4,), (1,)]]))
    n = draw(st.integers(1, 12))
    scales = draw(st.lists(st.sampled_from([1e-3, 0.1, 1.0, 10.0, 1e3]), min_size=n, max_size=n))
    fixed = draw(st.booleans())
    max_norms = (draw(st.sampled_from([0.1, 1.0, 5.0])) if fixed
                 else draw(st.lists(st.sampled_from([0.1, 1.0, 5.0, 50.0]), min_size=n, max_size=n)))
    return random_scenario(shapes, scales, max_norms, then=draw(st.sampled_from([None, "summary", "plot"])),
                           seed=draw(st.integers(0, 2**16)), none_every=draw(st.sampled_from([0, 0, 2])))


@points(4)
@given(s=monitor_scenarios())
def test_matches_torch_on_generated_histories(judge, s):
    check(judge, s)
