"""Hidden suite: ZClip against the reference and a PyTorch-built clipper."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradkata.perf import PROFILE, measure
from gradkata.katas._clipper_runs import scenario
from gradkata.suitekit import Mismatch, close, expect_arrays, fmt_array, fmt_num, fmt_value, number, points, \
    sanity, visible
from gradkata.katas.zclip.driver import Observation, Scenario

KATA = "zclip"

parity = pytest.mark.tier("parity")


def constructor(s: Scenario) -> str:
    parts = [repr(a) if a is None else fmt_num(a) for a in s["args"]] + [f"{k}={v}" for k, v in s["kwargs"].items()]
    return f"ZClip({', '.join(parts)})"


def value(call: str, desc: dict) -> float:
    got = number(desc)
    if got is None:
        raise Mismatch(f"Called {call}. Returned {fmt_value(desc)}, expected a number (the norm used).")
    return got


def check(judge, s: Scenario, judged: str = "grads") -> None:
    """``judged``: "grads" compares the gradients after every step, "returned" the norm each step
    returns, and only that: a wrong return value costs the return-value check alone."""
    want, oracle = judge.reference(s), judge.oracle(s)
    got: Observation = judge.candidate(s)
    used = [value("reference", r) for r in want["returned"]]
    for t, (g, w) in enumerate(zip(got["returned"], want["returned"])):
        call = f"clipper = {constructor(s)}, then clipper.step(model) (call {t + 1})"
        sanity(close(used[t], value("oracle", oracle["returned"][t])), "the reference disagrees with torch")
        if judged == "returned":
            seen = f" (norms used so far: {fmt_array(np.array(used[:t + 1]), limit=8)})"
            returned = value(call, g)
            if not close(returned, used[t]):
                raise Mismatch(f"Called {call}. Returned {fmt_num(returned)}, expected the norm used "
                               f"min(total_norm, threshold) = {fmt_num(used[t])} (PyTorch gives "
                               f"{fmt_num(value('oracle', oracle['returned'][t]))}){seen}.")
            continue
        expect_arrays(call, "grad", got["grads"][t], want["grads"][t], oracle["grads"][t])
    if len(got["returned"]) != len(want["returned"]):
        raise Mismatch(f"Made {len(want['returned'])} calls to step, observed {len(got['returned'])} results.")


# --- interview: the rule as the paper states it ---------------------------------

@visible
@points(2)
def test_worked_example(judge):
    """warmup_steps=3, max_grad_norm=None: three calls collect norms, then the spike (x20) is clipped
    to mean + 2.5 * std of the EMA."""
    check(judge, scenario([1.0, 1.2, 0.9, 1.1, 20.0, 1.0], {"warmup_steps": 3, "max_grad_norm": None}))


@visible
@points(2)
def test_defaults_follow_the_paper(judge):
    """Defaults alpha=0.97, z_thresh=2.5, max_grad_norm=1.0, warmup_steps=25: 25 calls of warm-up, then
    spikes against the EMA, everything capped at 1.0."""
    rng = np.random.default_rng(7)
    scales = np.exp(rng.uniform(-3.0, -1.5, size=32))
    scales[[27, 30]] *= 15.0
    check(judge, scenario(scales, seed=7))


@points(2)
def test_returns_the_norm_used(judge):
    """The return value alone (the gradients have checks of their own): each step returns the norm it
    clipped to, min(total_norm, threshold), during warm-up and after it."""
    check(judge, scenario([1.0, 1.2, 0.9, 1.1, 20.0, 1.0], {"warmup_steps": 3, "max_grad_norm": None}),
          judged="returned")
    check(judge, scenario([3.0, 3.5, 2.8, 3.2, 40.0, 3.1], {"warmup_steps": 3, "max_grad_norm": 2.0}, seed=2),
          judged="returned")


@points(5)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(3, 14), warmup=st.integers(1, 5),
       alpha=st.sampled_from([0.5, 0.9, 0.97]), z=st.sampled_from([1.0, 2.0, 2.5]),
       cap=st.sampled_from([None, 0.5, 2.0, 10.0]), spikes=st.lists(st.integers(0, 13), max_size=3),
       spread=st.sampled_from([0.1, 0.5, 1.0]))
def test_matches_torch_on_generated_runs(judge, seed, steps, warmup, alpha, z, cap, spikes, spread):
    rng = np.random.default_rng(seed)
    scales = np.exp(rng.uniform(-spread, spread, size=steps))
    for i in spikes:
        if i < steps:
            scales[i] *= 25.0
    check(judge, scenario(scales, {"alpha": alpha, "z_thresh": z, "max_grad_norm": cap, "warmup_steps": warmup},
                          seed=seed % 1000))


@points(2)
def test_spikes_are_clipped_and_the_ema_sees_the_clipped_norm(judge):
    """A burst of spikes: each must be judged against statistics that earlier spikes did not inflate."""
    check(judge, scenario([1.0, 1.1, 0.9, 1.0, 1.05, 20.0, 25.0, 1.0, 30.0, 1.1, 22.0],
                          {"warmup_steps": 5, "max_grad_norm": None, "alpha": 0.9}, seed=4))


@points(2)
def test_ceiling_holds_after_warmup(judge):
    """max_grad_norm=2.0 below ordinary norms and below the spike threshold: every step is capped."""
    check(judge, scenario([3.0, 3.5, 2.8, 3.2, 40.0, 3.1, 3.3, 3.0], {"warmup_steps": 3, "max_grad_norm": 2.0},
                          seed=2))


@points(1)
def test_warmup_only_collects(judge):
    """A spike during warm-up is clipped at max_grad_norm only, never by a z-score."""
    check(judge, scenario([1.0, 1.1, 9.0, 1.2, 0.9, 1.0, 1.1],
                          {"warmup_steps": 5, "max_grad_norm": 3.0, "alpha": 0.9}, seed=1))


# --- parity: edges of the contract ----------------------------------------------

@parity
@points(1)
def test_positional_arguments(judge):
    check(judge, scenario([1.0, 1.2, 0.8, 9.0, 1.0], args=[0.9, 2.0, None, 2]))


@parity
@points(1)
def test_frozen_parameters_are_skipped(judge):
    check(judge, scenario([1.0, 1.2, 0.9, 15.0, 1.0], {"warmup_steps": 3, "max_grad_norm": None}, frozen=[0, 1]))


@parity
@points(1)
def test_zero_variance_warmup(judge):
    """Identical warm-up norms (variance 0): the 1e-6 in z's denominator decides, no division by zero."""
    check(judge, scenario([1.0, 1.0, 1.0, 1.0, 3.0, 1.0], {"warmup_steps": 4, "max_grad_norm": None},
                          lr=0.0, same_batch=True))


@parity
@points(1)
def test_one_step_warmup(judge):
    """warmup_steps=1: the EMA starts from one norm with variance 0; call 2 is already z-scored."""
    check(judge, scenario([2.0, 2.5, 1.5, 8.0], {"warmup_steps": 1, "max_grad_norm": 4.0}, seed=5))


# --- performance: advice, no points ----------------------------------------------

@pytest.mark.tier("performance")
@points(0)
def test_performance_is_measured(judge):
    """Two steps of a fresh ZClip(warmup_steps=1, max_grad_norm=None): host syncs, aten ops and extra
    bytes next to the reference's and a ZClip built from PyTorch's pieces."""
    measure(judge, {"profile": dict(PROFILE), "kwargs": {"warmup_steps": 1, "max_grad_norm": None}},
            torch_label="ZClip from PyTorch's pieces")
