"""Hidden suite: the NumPy clip_by_value(g, c) against the reference and torch.clamp.

Interview tier: the notebook's question, NumPy gradient vectors. Parity tier:
matrices and an empty vector. One property, one check: leaving the caller's
array alone is judged by test_input_is_not_modified alone, so code that clips
in place keeps the points for clipping right.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradkata.suitekit import (Mismatch, expect_untouched, close, first_difference, fmt_array, fmt_num, fmt_value, numpy_vectors,
                             points, visible)
from gradkata.katas.clip_by_value.driver import Observation, Scenario

KATA = "clip_by_value"

# c as a multiple of the largest |g| component: everything clipped to 0, most
# clipped, exactly at the largest component, nothing clipped.
RATIOS = (0.0, 0.01, 0.5, 1.0, 2.0, math.inf)


def scenario(g, c, dtype="float64") -> Scenario:
    return {"g": np.asarray(g, dtype=dtype), "c": c}


def check(judge, s: Scenario, untouched: bool = False) -> None:
    call = f"clip_by_value(g={fmt_array(s['g'])}, c={fmt_num(s['c'])})"
    dtype = np.asarray(s["g"]).dtype.name
    want, oracle = judge.reference(s)["returned"]["value"], judge.oracle(s)["returned"]["value"]
    assert close(want, oracle, dtype), "grader bug: reference != torch"
    got: Observation = judge.candidate(s)
    if untouched:
        expect_untouched(call, got["g_after"], s["g"])
    returned = got["returned"]
    if returned.get("type") != "ndarray":
        raise Mismatch(f"Called {call}. Returned {fmt_value(returned)}, expected the NumPy array "
                       f"{fmt_array(want)} (PyTorch gives {fmt_array(oracle)}).")
    value = np.asarray(returned["value"])
    if value.shape != want.shape:
        raise Mismatch(f"Called {call}. Returned an array of shape {list(value.shape)}, expected "
                       f"{list(want.shape)}, the shape of g.")
    if not close(value, want, dtype):
        raise Mismatch(f"Called {call}. Returned {fmt_array(value)}, expected {fmt_array(want)} "
                       f"(PyTorch gives {fmt_array(oracle)}){first_difference(value, want, dtype)}.")


@visible
@points(2)
def test_worked_example(judge):
    """The NumPy demo: rng = default_rng(0), g = rng.normal(0, 5, 8), c = 2: four components clamp to ±2."""
    g = np.random.default_rng(0).normal(0.0, 5.0, size=8)
    check(judge, scenario(g, 2.0))


@visible
@points(1)
def test_direction_changes(judge):
    """[10, 0.1] clamped at 1 is [1, 0.1]: each component on its own."""
    check(judge, scenario([10.0, 0.1], 1.0))


@points(4)
@given(g=numpy_vectors(max_dims=1), ratio=st.sampled_from(RATIOS))
def test_matches_torch_on_generated_inputs(judge, g, ratio):
    top = float(np.abs(g.astype(np.float64)).max())
    c = ratio * top if math.isfinite(ratio) else math.inf
    check(judge, {"g": g, "c": float(c)})


@points(1)
def test_input_is_not_modified(judge):
    """np.clip(g, -c, c) returns a new array; np.clip(..., out=g) or g[g > c] = c changes the caller's."""
    check(judge, scenario([3.0, -4.0, 0.5, 12.0], 1.0), untouched=True)


@points(1)
def test_negative_components_are_clamped_to_minus_c(judge):
    check(judge, scenario([-7.0, -0.5, -2.0, 2.0], 2.0))


@points(1)
def test_components_exactly_at_the_bound(judge):
    check(judge, scenario([2.0, -2.0, 1.999, -2.001], 2.0))


@points(1)
def test_zero_bound(judge):
    check(judge, scenario([3.0, -4.0, 0.0], 0.0))


@pytest.mark.tier("parity")
@points(1)
def test_matrix_keeps_its_shape(judge):
    check(judge, scenario([[3.0, -0.5, 9.0], [0.25, -12.0, 1.0]], 1.5))


@points(1)
def test_float32_input(judge):
    g = np.random.default_rng(2).normal(0.0, 3.0, size=16)
    check(judge, scenario(g, 2.0, dtype="float32"))


@points(1)
def test_integer_bound(judge):
    s = scenario([3.0, -4.0, 0.5], 2.0)
    s["c"] = 2
    check(judge, s)


@points(1)
def test_tiny_and_huge_magnitudes(judge):
    check(judge, scenario([1e-150, -3e-150, 5e150, -2e200], 1e-149))


@pytest.mark.tier("parity")
@points(1)
def test_empty_vector(judge):
    check(judge, scenario(np.zeros(0), 1.0))
    # An empty result alone earns nothing: code that returns garbage of the
    # right shape would pass the empty case by construction.
    check(judge, scenario([0.25, -3.0], 1.0))
