"""Hidden suite: adaptive_grad_clip against the reference and a transcription of timm's adaptive_clip_grad."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradkata.suitekit import Mismatch, close, expect_arrays, fmt_array, fmt_num, points, visible
from gradkata.katas.adaptive_grad_clip.driver import Observation, Scenario
from gradkata.worker.shapes import Param

KATA = "adaptive_grad_clip"


def param(value, grad, dtype="float64") -> Param:
    return {"value": np.asarray(value, dtype=dtype), "grad": None if grad is None else np.asarray(grad, dtype=dtype)}


def scenario(params, clip_factor=None, eps=None, container="list", positional=False) -> Scenario:
    return {"params": params, "order": list(range(len(params))), "container": container,
            "clip_factor": clip_factor, "eps": eps, "positional": positional}


def call_text(s: Scenario) -> str:
    shapes = ", ".join(f"{list(np.shape(p['value']))}" + ("" if p["grad"] is not None else " (grad None)")
                       for p in s["params"][:5])
    args = "".join(f", {k}={fmt_num(s[k])}" for k in ("clip_factor", "eps") if s.get(k) is not None)
    first = next((p for p in s["params"] if p["grad"] is not None), None)
    example = "" if first is None else f"; first W = {fmt_array(first['value'])}, G = {fmt_array(first['grad'])}"
    return f"adaptive_grad_clip(a {s['container']} of parameters shaped [{shapes}]{args}){example}"


def unit_ratios(s: Scenario) -> str:
    """||G_i|| / max(||W_i||, eps) of the first parameter's units, for the message."""
    eps = s.get("eps")
    eps = 1e-3 if eps is None else eps
    for p in s["params"]:
        if p["grad"] is not None:
            w, g = (np.asarray(a, dtype=np.float64) for a in (p["value"], p["grad"]))
            rows = w.shape[0] if w.ndim > 1 else 1
            wn = np.maximum(np.linalg.norm(w.reshape(rows, -1), axis=1), eps)
            return fmt_array(np.linalg.norm(g.reshape(rows, -1), axis=1) / wn)
    return "[]"


def check(judge, s: Scenario) -> None:
    call = call_text(s)
    want, oracle = judge.reference(s), judge.oracle(s)
    for w, o in zip(want["grads"], oracle["grads"]):
        assert w is None or close(w, o, np.asarray(w).dtype.name), \
            "grader bug: the reference disagrees with timm's rule"
    got: Observation = judge.candidate(s)
    try:
        expect_arrays(call, "grad", got["grads"], want["grads"], oracle["grads"])
    except Mismatch as exc:
        factor = 0.01 if s.get("clip_factor") is None else s["clip_factor"]
        raise Mismatch(f"{exc} Unit ratios ||G_i|| / max(||W_i||, eps) of the first parameter before the call: "
                       f"{unit_ratios(s)} (clip_factor {fmt_num(factor)}).") from None
    for i, (g, w) in enumerate(zip(got["params"], want["params"])):
        if not np.array_equal(g, w, equal_nan=True):
            raise Mismatch(f"Called {call}. The weights of parameter {i} changed; only .grad may change.")


@st.composite
def agc_cases(draw) -> Scenario:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    # The interview's input space: Linear weights (2-D) and biases (1-D) in a list,
    # tuple or generator. 0-d, 3-D and 4-D parameters and a lone tensor are the
    # parity tier's, each in its own deterministic check.
    container = draw(st.sampled_from(["list", "tuple", "generator"]))
    n = draw(st.integers(1, 4))
    params = []
    for _ in range(n):
        ndim = draw(st.sampled_from([1, 2, 2]))
        shape = tuple(int(v) for v in rng.integers(1, 5, size=ndim))
        units = shape[0] if ndim > 1 else 1
        w = rng.normal(size=shape) * 10.0 ** rng.integers(-2, 2)
        if draw(st.booleans()):  # some units start at zero, like a freshly initialised bias
            w.reshape(units, -1)[rng.random(units) < 0.5] = 0.0
        # Per-unit gradient sizes from far below to far above the limit.
        g_scale = 10.0 ** rng.integers(-6, 1, size=units).astype(np.float64)
        g = (rng.normal(size=(units, int(np.prod(shape[1:])) if ndim > 1 else max(1, w.size)))
             * g_scale[:, None]).reshape(shape)
        has_grad = draw(st.integers(0, 4)) > 0
        params.append(param(w, g if has_grad else None, dtype))
    return scenario(params, clip_factor=draw(st.sampled_from([None, 0.01, 0.02, 0.1, 0.5])),
                    eps=draw(st.sampled_from([None, 1e-3, 1e-6, 0.1])), container=container)


@visible
@points(2)
def test_worked_example(judge):
    """W = [[3, 4], [0, 0]], G = [[0.3, 0.4], [0.001, 0]]: rows become [0.03, 0.04] and [1e-5, 0];
    a bias [1, 0] with grad [0.001, 0.002] is within its limit and stays."""
    check(judge, scenario([param([[3.0, 4.0], [0.0, 0.0]], [[0.3, 0.4], [0.001, 0.0]]),
                           param([1.0, 0.0], [0.001, 0.002])]))


@points(5)
@given(s=agc_cases())
def test_matches_timm_rule_on_generated_parameters(judge, s):
    check(judge, s)


@points(2)
def test_units_are_rows_not_whole_tensors(judge):
    """One row far over its limit, one far under: only the first is scaled."""
    check(judge, scenario([param([[1.0, 0.0, 0.0], [0.0, 100.0, 0.0]], [[1.0, 1.0, 0.0], [0.0, 0.05, 0.0]])],
                          clip_factor=0.1))


@points(2)
def test_units_are_rows_not_columns(judge):
    check(judge, scenario([param([[1.0, 2.0, 2.0], [10.0, 0.0, 0.0]], [[0.9, 0.0, 0.0], [0.0, 0.0, 0.5]])],
                          clip_factor=0.1))


@points(2)
def test_zero_weights_use_the_eps_floor(judge):
    """A zero bias: the limit is clip_factor * eps, not 0, so its gradient shrinks but survives."""
    check(judge, scenario([param(np.zeros(4), [0.5, -0.5, 0.1, 0.0]), param(np.zeros((2, 2)), [[1.0, 2.0], [0, 0]])],
                          eps=1e-2))


@points(2)
def test_small_gradients_are_left_exactly_alone(judge):
    check(judge, scenario([param([[2.0, 0.0], [0.0, 3.0]], [[0.001, 0.002], [0.003, -0.001]]),
                           param([4.0, 3.0], [0.01, 0.02])]))
    # A degenerate input alone earns nothing: code that ignores its input
    # (a do-nothing body) would pass it by construction.
    # Here row 0 is clipped and row 1, within its limit, must come back exactly as it was.
    check(judge, scenario([param([[2.0, 0.0], [0.0, 3.0]], [[0.5, 0.0], [0.003, -0.001]])]))


@points(1)
def test_positional_arguments_and_generator(judge):
    rng = np.random.default_rng(9)
    params = [param(rng.normal(size=(3, 4)), rng.normal(size=(3, 4))), param(rng.normal(size=3), rng.normal(size=3))]
    check(judge, scenario(params, clip_factor=0.05, eps=1e-4, container="generator", positional=True))


@points(1)
def test_none_grads_are_skipped(judge):
    check(judge, scenario([param([1.0, 2.0], None), param([[3.0, 4.0]], [[1.0, 1.0]]), param([0.5], None)]))


parity = pytest.mark.tier("parity")


@parity
@points(1)
def test_conv_filters_are_units(judge):
    """A 4-D conv weight and a 3-D (Conv1d) weight: a unit is everything but dim 0 (one output filter),
    not a reduction over dim 1 alone."""
    rng = np.random.default_rng(4)
    w = rng.normal(size=(3, 2, 3, 3))
    g = rng.normal(size=(3, 2, 3, 3)) * np.array([1e-3, 1.0, 1e-1])[:, None, None, None]
    check(judge, scenario([param(w, g)], clip_factor=0.02))
    w3 = rng.normal(size=(2, 3, 4))
    g3 = rng.normal(size=(2, 3, 4)) * np.array([1.0, 1e-3])[:, None, None]
    g3[0, 0] *= 50.0  # one (filter, channel) slice far over: the whole filter is the unit
    check(judge, scenario([param(w3, g3)], clip_factor=0.05))


@parity
@points(1)
def test_single_tensor(judge):
    check(judge, scenario([param([[1.0, 1.0], [2.0, 2.0]], [[1.0, 0.0], [0.0, 0.01]])], container="single"))


@parity
@points(1)
def test_scalar_parameter(judge):
    check(judge, scenario([param(2.0, 5.0), param(0.0, 1e-9)], clip_factor=0.1))
