"""Hidden suite: the NumPy clip_by_norm(g, tau) against the reference and PyTorch's clip_grad_norm_.

Two answers are accepted, part by part: the kata's formula g / max(1, ||g|| / tau)
(the notebook's, computed by the reference) and PyTorch's, which adds 1e-6 to the
norm (g * min(1, tau / (||g|| + 1e-6))). Messages quote the kata's formula and
name PyTorch only for PyTorch's own output.

Interview tier: 1-D vectors, as in the notebook. Parity tier: arrays of any
rank (matrix, 3-D, 0-d), in one deterministic check.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradkata.suitekit import (Mismatch, close, expect_untouched, first_difference, fmt_array, fmt_num, fmt_value,
                             number, numpy_vectors, points, sanity, trusted_number, visible)
from gradkata.katas.clip_by_norm.driver import Observation, Scenario

KATA = "clip_by_norm"
parity = pytest.mark.tier("parity")

# tau as a multiple of ||g||: heavy clipping, some, exactly at the norm, none.
RATIOS = (1e-6, 0.01, 0.5, 1.0, 2.0, 100.0)
NAMES = ("the clipped array", "norm_before", "norm_after")


def scenario(g, tau, dtype="float64") -> Scenario:
    return {"g": np.asarray(g, dtype=dtype), "tau": tau}


def _call(s: Scenario) -> str:
    return f"clip_by_norm(g={fmt_array(s['g'])}, tau={fmt_num(s['tau'])})"


def _parts(call: str, returned: dict) -> list[dict]:
    if returned.get("type") not in ("tuple", "list") or returned.get("length") != 3:
        raise Mismatch(f"Called {call}. Returned {fmt_value(returned)}, expected a tuple of three values "
                       "(g_clipped, norm_before, norm_after).")
    return returned["items"]


def _also(want, oracle, dtype: str, fmt) -> str:
    """What PyTorch's clip_grad_norm_ gives, when it differs from the kata's formula (its 1e-6)."""
    if close(oracle, want, dtype):
        return " (PyTorch's clip_grad_norm_ agrees)"
    return f" by the kata's formula; PyTorch's clip_grad_norm_, with 1e-6 added to the norm, gives {fmt(oracle)}, " \
           "also accepted"


def _expect_array(call: str, got: dict, want: np.ndarray, oracle: np.ndarray, dtype: str) -> None:
    want, oracle = np.asarray(want), np.asarray(oracle)
    torch_says = _also(want, oracle, dtype, fmt_array)
    if got.get("type") == "ndarray":
        value = np.asarray(got["value"])
    elif np.ndim(want) == 0 and number(got) is not None:
        value = np.asarray(number(got))  # NumPy itself turns g / scale of a 0-d g into a scalar
    else:
        raise Mismatch(f"Called {call}. Returned {fmt_value(got)} as the clipped gradient, expected the NumPy "
                       f"array {fmt_array(want)}.")
    if value.shape != want.shape:
        raise Mismatch(f"Called {call}. The clipped array has shape {list(value.shape)}, expected "
                       f"{list(want.shape)}, the shape of g.")
    if not close(value, want, dtype) and not close(value, oracle, dtype):
        raise Mismatch(f"Called {call}. Returned the clipped array {fmt_array(value)}, expected "
                       f"{fmt_array(want)}{torch_says}{first_difference(value, want, dtype)}.")


def _subnormal_floor(size: int, dtype: str) -> float:
    """How far a norm computed in ``dtype`` may be off when its squares fall below the smallest normal
    number: each square rounds to a multiple of the smallest subnormal. (NumPy's float32 norm squares in
    float32: a norm of 1e-22 comes out a percent off, a rounding, not a mistake.)"""
    try:
        tiny = float(np.finfo(np.dtype(dtype)).smallest_subnormal)
    except TypeError:
        return 0.0
    return math.sqrt(max(size, 1) * tiny)


def _expect_norm(call: str, got: dict, want: float, oracle: float, dtype: str, what: str,
                 floor: float = 0.0) -> None:
    value = number(got)
    torch_says = _also(want, oracle, dtype, fmt_num)
    if value is None:
        raise Mismatch(f"Called {call}. Returned {fmt_value(got)} as {what}, expected the number {fmt_num(want)}"
                       f"{torch_says}.")
    if abs(value - want) <= floor or abs(value - oracle) <= floor:
        return
    if not close(value, want, dtype) and not close(value, oracle, dtype):
        raise Mismatch(f"Called {call}. Returned {what} = {fmt_num(value)}, expected {fmt_num(want)}{torch_says}.")


def check(judge, s: Scenario) -> None:
    call = _call(s)
    dtype = np.asarray(s["g"]).dtype.name
    want, oracle = judge.reference(s), judge.oracle(s)
    want_parts, oracle_parts = want["returned"]["items"], oracle["returned"]["items"]
    # The two formulas agree up to the 1e-6, which is negligible once the norm is 1 or more.
    if trusted_number(want_parts[1]) >= 1:
        for w, o in zip(want_parts, oracle_parts):
            sanity(close(w["value"], o["value"], dtype), "reference != torch")
    got: Observation = judge.candidate(s)
    expect_untouched(call, got["g_after"], s["g"])
    parts = _parts(call, got["returned"])
    _expect_array(call, parts[0], want_parts[0]["value"], oracle_parts[0]["value"], dtype)
    for i in (1, 2):
        _expect_norm(call, parts[i], trusted_number(want_parts[i]), trusted_number(oracle_parts[i]), dtype,
                     NAMES[i], _subnormal_floor(np.size(s["g"]), dtype))


@visible
@points(2)
def test_worked_example(judge):
    """The NumPy demo: rng = default_rng(0), g = rng.normal(0, 5, 8), tau = 5: ||g|| 9.313 shrinks to 5."""
    g = np.random.default_rng(0).normal(0.0, 5.0, size=8)
    check(judge, scenario(g, 5.0))


@visible
@points(1)
def test_short_vector_is_unchanged(judge):
    check(judge, scenario([0.3, -0.4], 1.0))


@points(4)
@given(g=numpy_vectors(max_dims=1), ratio=st.sampled_from(RATIOS))
def test_matches_torch_on_generated_inputs(judge, g, ratio):
    """1-D float32/float64 vectors at scales from 1e-12 to 1e12, tau from 1e-6 to 100 times ||g||."""
    norm = float(np.linalg.norm(g.astype(np.float64).ravel()))
    tau = ratio * norm if norm > 0 else ratio
    check(judge, {"g": g, "tau": float(tau)})


@points(1)
def test_input_is_not_modified(judge):
    check(judge, scenario([30.0, -40.0, 120.0], 6.5))


@points(1)
def test_norm_exactly_at_threshold(judge):
    check(judge, scenario([3.0, 4.0], 5.0))


@points(1)
def test_zero_vector(judge):
    check(judge, scenario([0.0, 0.0, 0.0], 1.0))
    # A degenerate input alone earns nothing: code that ignores its input
    # (a constant return, a do-nothing body) would pass it by construction.
    check(judge, scenario([0.6, -0.8, 2.4], 1.0))


@parity
@points(1)
def test_matrix_uses_the_norm_of_all_elements(judge):
    """For a 2-D g the norm is over every element (Frobenius), not the matrix 2-norm; likewise 3-D and 0-d."""
    check(judge, scenario([[3.0, 4.0, 0.0], [0.0, 12.0, -1.0]], 2.0))
    check(judge, scenario([[[3.0, 4.0], [0.0, 12.0]], [[-1.0, 0.5], [2.0, 0.0]]], 2.0))
    check(judge, scenario(-7.0, 2.0))


@points(1)
def test_float32_input(judge):
    g = np.random.default_rng(1).normal(0.0, 3.0, size=16)
    check(judge, scenario(g, 2.0, dtype="float32"))


@points(1)
def test_integer_tau(judge):
    s = scenario([6.0, 8.0], 5.0)
    s["tau"] = 5
    check(judge, s)


@points(1)
def test_tiny_and_huge_magnitudes(judge):
    check(judge, scenario([1e-150, -3e-150], 1e-151))
    check(judge, scenario([3e150, 4e150], 1.0))


@points(1)
def test_empty_vector(judge):
    check(judge, scenario(np.zeros(0), 1.0))
    # A degenerate input alone earns nothing: code that ignores its input
    # (a constant return, a do-nothing body) would pass it by construction.
    check(judge, scenario([0.6, -0.8, 2.4], 1.0))


@points(1)
def test_very_small_tau(judge):
    check(judge, scenario([1.0, -2.0, 2.0], 1e-9))


@points(1)
def test_result_norm_is_tau_after_clipping(judge):
    g = np.linspace(-5.0, 7.0, 13)
    check(judge, scenario(g, math.pi))
