"""Hidden suite: clip_grad_value against the reference and torch.nn.utils.clip_grad_value_.

Interview tier: the question as the seeds pose it (a list, tuple or generator
of parameters, some grads None, float32/float64, 1-D and 2-D gradients, a
clip_value > 0). Parity tier: the rest of torch's contract, each in one
deterministic check (a lone tensor, a parameter listed twice, half precision,
0-d and 3-d gradients, infinite gradients, clip_value = 0).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gradkata.judge import CandidateRaised
from gradkata.perf import PROFILE, measure
from gradkata.suitekit import Mismatch, expect_arrays, fmt_num, fmt_params, param_sets, points, visible
from gradkata.katas.clip_grad_value.driver import Observation, Scenario
from gradkata.worker.shapes import Param, ParamsScenario

KATA = "clip_grad_value"
parity = pytest.mark.tier("parity")

# clip_value as a multiple of the largest |grad| element: most clipped, exactly
# at the largest element, nothing clipped. clip_value = 0 is a parity check.
RATIOS = (0.01, 0.5, 1.0, 2.0, math.inf)
CONTAINERS = ("list", "tuple", "generator")


def scenario(grads, clip_value, container="list", dtype="float32", order=None, device="cpu") -> Scenario:
    params: list[Param] = [{"value": np.ones(np.shape(g), dtype=dtype) if g is not None else np.ones(2, dtype=dtype),
               "grad": None if g is None else np.asarray(g, dtype=dtype)} for g in grads]
    s: Scenario = {"params": params, "container": container, "clip_value": float(clip_value), "device": device}
    if order is not None:
        s["order"] = order
    return s


def _has_grads(s: Scenario) -> bool:
    order = s.get("order", range(len(s["params"])))
    return any(s["params"][i]["grad"] is not None for i in order)


def _call(s: Scenario) -> str:
    return f"clip_grad_value({fmt_params(s)}, clip_value={fmt_num(s['clip_value'])})"


def _expect_weights_untouched(call: str, got: Observation, want: dict) -> None:
    for i, (g, w) in enumerate(zip(got["params"], want["params"])):
        if not np.array_equal(g, w, equal_nan=True):
            raise Mismatch(f"Called {call}. The weights of parameter {i} changed; only .grad may change.")


def check(judge, s: Scenario) -> None:
    """The grads after the call must match the reference and torch; the return value is not judged
    (torch returns None, and returning something else harms no caller)."""
    call = _call(s)
    judge.ask_ahead(s)  # the candidate computes while the reference and torch do here
    want = judge.reference(s)
    if not _has_grads(s):
        # torch 2.13 raises on this input, the reference does nothing: either is accepted.
        try:
            got: Observation = judge.candidate(s)
        except CandidateRaised as exc:
            if exc.not_implemented:
                raise
            return
        expect_arrays(call, "grad", got["grads"], want["grads"], None)
        _expect_weights_untouched(call, got, want)
        return
    oracle = judge.oracle(s)
    got = judge.candidate(s)
    for w, o in zip(want["grads"], oracle["grads"]):
        assert (w is None) == (o is None) and (w is None or np.array_equal(w, o, equal_nan=True)), \
            "grader bug: reference != torch"
    expect_arrays(call, "grad", got["grads"], want["grads"], oracle["grads"], s.get("torch_dtype"))
    _expect_weights_untouched(call, got, want)


def _max_abs(s: ParamsScenario) -> float:
    order = s.get("order", range(len(s["params"])))
    grads = [np.abs(np.asarray(s["params"][i]["grad"], dtype=np.float64)) for i in order
             if s["params"][i]["grad"] is not None]
    return max((float(g.max()) for g in grads if g.size), default=0.0)


@visible
@points(2)
def test_worked_example(judge):
    """[10, 0.1] clipped at 1 becomes [1, 0.1]: the direction changes."""
    check(judge, scenario([[10.0, 0.1], [-3.0, 0.5, -0.25]], 1.0))


@visible
@points(1)
def test_clip_at_half_with_a_none_bias_grad(judge):
    """As in the seeds' training loop: clip_value 0.5, one parameter without a gradient."""
    check(judge, scenario([[0.9, -0.2, 0.7, -1.4], None, [0.3]], 0.5))


@points(4)
@given(params=param_sets(containers=CONTAINERS, allow_empty=False), ratio=st.sampled_from(RATIOS))
def test_matches_torch_on_generated_inputs(judge, params: ParamsScenario, ratio: float) -> None:
    """Lists, tuples and generators of float32/float64 parameters, 1-D and 2-D, some grads None."""
    top = _max_abs(params)
    clip_value = ratio * top if math.isfinite(ratio) else math.inf
    if clip_value == 0:
        clip_value = 1.0  # every grad is zero (or None): any positive bound leaves them alone
    check(judge, {**params, "clip_value": float(clip_value)})


@points(1)
def test_generator_is_consumed_once(judge):
    check(judge, scenario([[3.0, -4.0], [12.0], [1.0, -2.0, 2.0]], 2.5, container="generator"))


@points(1)
def test_tuple_of_parameters(judge):
    check(judge, scenario([[3.0, -4.0], [0.5]], 1.0, container="tuple"))


@parity
@points(1)
def test_single_tensor(judge):
    check(judge, scenario([[6.0, -8.0, 0.5]], 5.0, container="single"))


@points(1)
def test_none_grads_are_skipped(judge):
    check(judge, scenario([[3.0, -4.0], None, [12.0], None], 2.0))


@points(1)
@pytest.mark.parametrize("container", ["list", "generator"])
def test_empty_input_is_harmless(judge, container):
    """torch 2.13 raises here and the reference does nothing; both are accepted."""
    check(judge, scenario([], 1.0, container=container))
    # A degenerate input alone earns nothing: code that ignores its input
    # (a constant return, a do-nothing body) would pass it by construction.
    check(judge, scenario([[0.3, -4.0], [1.2]], 1.0, container=container))


@points(1)
def test_all_grads_none(judge):
    check(judge, scenario([None, None], 1.0))
    # A degenerate input alone earns nothing: code that ignores its input
    # (a constant return, a do-nothing body) would pass it by construction.
    check(judge, scenario([None, [0.3, -4.0], None], 1.0))


@points(1)
def test_elements_exactly_at_the_bound_are_kept(judge):
    check(judge, scenario([[2.0, -2.0, 1.999, -2.001]], 2.0, dtype="float64"))


@parity
@points(1)
def test_zero_clip_value_zeroes_every_grad(judge):
    check(judge, scenario([[3.0, -4.0], [1e-9]], 0.0))


@points(1)
def test_integer_clip_value(judge):
    s = scenario([[3.0, -4.0, 0.5]], 2.0)
    s["clip_value"] = 2  # an int, as in clip_grad_value(params, 2)
    check(judge, s)


@parity
@points(1)
def test_infinite_grads_become_the_bound(judge):
    check(judge, scenario([[math.inf, -math.inf, 0.5]], 1.0))


@parity
@points(1)
def test_parameter_listed_twice(judge):
    check(judge, scenario([[3.0, -4.0], [12.0]], 2.0, order=[0, 0, 1]))


@points(1)
def test_tiny_and_huge_magnitudes_float64(judge):
    check(judge, scenario([[1e-12, -2e-12], [3e12, -5e15], [0.5]], 1e-12, dtype="float64"))


@parity
@points(1)
def test_half_precision(judge):
    check(judge, scenario([[300.0, -0.001, 65504.0], [1.5]], 1.0, dtype="float16"))


@parity
@points(1)
def test_bfloat16_grads(judge):
    check(judge, {**scenario([[10.0, 0.1], [-3.0, 0.5]], 1.0), "torch_dtype": "bfloat16"})


@parity
@points(1)
def test_zero_dim_and_three_dim_grads(judge):
    """A scalar parameter (0-d grad) and a conv-like weight (3-d grad) are clamped like any other."""
    check(judge, scenario([-3.0, [[[1.0, -2.0], [2.5, 0.5]], [[0.0, 4.0], [-1.0, 1.0]]]], 1.5))


@parity
@points(1)
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
def test_cuda_tensors(judge):
    check(judge, scenario([[10.0, 0.1], [-3.0, 0.5]], 1.0, device="cuda"))


@pytest.mark.tier("performance")
@points(0)
def test_performance_is_measured(judge):
    """Host syncs, aten ops (at k and 2k parameters) and extra bytes, next to the reference's and
    PyTorch's: advice in the check's message, no points."""
    measure(judge, {"profile": dict(PROFILE), "clip_value": 0.5})
