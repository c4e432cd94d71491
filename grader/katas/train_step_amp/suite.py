"""Hidden suite: train_step_amp, step by step against the reference (unscale_, clip_grad_norm_,
scaler.step, scaler.update) and a get_total_norm/clip_grads_with_norm_ oracle.

The scaler starts at scale 65536, so clipping still-scaled gradients (the
classic AMP mistake) clips at max_norm / 65536 and cannot pass for right.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradkata.katas.train_step_amp.scenarios import BIG_SCALE, scenario
from gradkata.suitekit import (Mismatch, close, fmt_array, fmt_num, fmt_value, number, points, tolerance,
                               trusted_number, visible)
from gradkata.katas.train_step_amp.driver import Observation, Scenario

KATA = "train_step_amp"
DEFAULT_MAX_NORM = 1.0
OPTIMIZERS = {"sgd": "SGD", "momentum": "SGD with momentum 0.9", "adam": "Adam"}


def _call(s: Scenario, k: int) -> str:
    opt = s["optimizer"]
    args = (f"model=MLP{s['model']['sizes']} (float32), optimizer={OPTIMIZERS[opt['optimizer']]}"
            f"(lr={fmt_num(opt['lr'])}), scaler=GradScaler('cpu', init_scale={fmt_num(s['scale'])}), "
            f"loss=MSE on a batch of {s['x'].shape[1]}")
    if s["max_norm"] is not None:
        args += f", max_norm={fmt_num(s['max_norm'])}"
    nan = " whose loss is NaN" if np.isnan(s["x"][k]).any() else ""
    return f"train_step_amp({args}) (call {k + 1} of {s['x'].shape[0]}{nan})"


def _per_call(obs: Mapping[str, Any], key: str = "norms_at_step", event: str = "step") -> list[list[float]]:
    """Observed values grouped by the call they happened in."""
    events, starts = obs["events"], obs["step_starts"] + [len(obs["events"])]
    values, out, seen = obs[key], [], 0
    for a, b in zip(starts, starts[1:]):
        n = events[a:b].count(event)
        out.append(list(values[seen:seen + n]))
        seen += n
    return out


def _expect_norm(call: str, got: dict, want: float, oracle: float | None, scale: float) -> None:
    value = number(got)
    torch_says = f" (PyTorch gives {fmt_num(oracle)})" if oracle is not None else ""
    if value is None:
        raise Mismatch(f"Called {call}. Returned {fmt_value(got)}, expected the unscaled gradient norm before "
                       f"clipping, {fmt_num(want)}{torch_says}.")
    if close(value, want, "float32"):
        return
    hint = ""
    if math.isfinite(want) and want > 0 and close(value / want, scale, "float32"):
        hint = (f" That is {fmt_num(scale)} (the loss scale) times too large: the norm was measured on the "
                "scaled gradients. Call scaler.unscale_(optimizer) first.")
    raise Mismatch(f"Called {call}. Returned {fmt_num(value)}, expected the unscaled pre-clip norm "
                   f"{fmt_num(want)}{torch_says}.{hint}")


def _expect_clipped_at_step(call: str, norms: list[float], max_norm: float, scale: float) -> None:
    for norm in norms:
        if norm > max_norm * (1 + tolerance("float32")[0]) + 1e-7:
            raise Mismatch(f"Called {call}. At optimizer.step() the gradient norm was {fmt_num(norm)} > max_norm "
                           f"{fmt_num(max_norm)}: the update used unclipped gradients. Clip after unscale_ and "
                           "before scaler.step.")


def _updated_close(got, want, before) -> bool:
    """float32 weights after an update w = w0 - step: rounding is relative to the terms w0 and step,
    not to their difference, which may nearly cancel; so the tolerance is scaled by max(|w|, |w0|)."""
    if close(got, want, "float32"):
        return True
    if before is None:
        return False
    got, want, before = (np.asarray(a, dtype=np.float64) for a in (got, want, before))
    if got.shape != want.shape or want.shape != before.shape or not np.isfinite(got).all():
        return False
    rtol, ascale = tolerance("float32")
    size = np.maximum(np.abs(want), np.abs(before))
    return bool((np.abs(got - want) <= ascale * float(size.max(initial=0.0)) + rtol * size).all())


def _expect_weights(call: str, got: list, want: list, norms: list[float], want_norms: list[float],
                    max_norm: float, scale: float, before: list | None = None) -> None:
    for i, (g, w) in enumerate(zip(got, want)):
        if _updated_close(g, w, before[i] if before is not None else None):
            continue
        if not want_norms and norms:
            why = (" This step's loss was NaN, so the scaler should have skipped the update, but "
                   "optimizer.step() ran on NaN gradients. Step through scaler.step(optimizer), which checks "
                   "for inf/NaN, not optimizer.step().")
        elif norms and want_norms and norms[0] < want_norms[0] * 1e-3 and norms[0] <= max_norm / scale * 1.01:
            why = (f" At optimizer.step() the gradient norm was {fmt_num(norms[0])}, about max_norm / scale = "
                   f"{fmt_num(max_norm / scale)}: the gradients were clipped while still multiplied by the loss "
                   "scale. Call scaler.unscale_(optimizer) before clipping.")
        elif not norms and want_norms:
            why = " optimizer.step() was never called: use scaler.step(optimizer)."
        elif norms and want_norms and not close(norms[0], want_norms[0], "float32"):
            why = (f" At optimizer.step() the gradient norm was {fmt_num(norms[0])}, expected "
                   f"{fmt_num(want_norms[0])}.")
        else:
            why = ""
        raise Mismatch(f"Called {call}. Afterwards parameter {i} of the model is {fmt_array(g)}, expected "
                       f"{fmt_array(w)}.{why}")


def _expect_scale(call: str, got: float, want: float, before: float) -> None:
    if close(got, want, "float64"):
        return
    hint = ""
    if close(got, before, "float64"):
        hint = " The scale did not change: call scaler.update() once at the end of every step."
    raise Mismatch(f"Called {call}. Afterwards the scaler's scale is {fmt_num(got)}, expected {fmt_num(want)}."
                   f"{hint}")


def check(judge, s: Scenario, judged: str = "training") -> None:
    """``judged``: "training" compares the steps, the weights and the scale after each call; "returned"
    only the norm each call returns, so a wrong return value costs the return-value check alone."""
    want, oracle = judge.reference(s), judge.oracle(s)
    got: Observation = judge.candidate(s)
    max_norm = DEFAULT_MAX_NORM if s["max_norm"] is None else s["max_norm"]
    got_norms, want_norms = _per_call(got), _per_call(want)
    before = s["scale"]
    for k in range(s["x"].shape[0]):
        call = _call(s, k)
        norms = got_norms[k] if k < len(got_norms) else []
        want_value = trusted_number(want["returned"][k])
        oracle_value = number(oracle["returned"][k]) if oracle else None
        if oracle_value is not None:
            assert close(want_value, oracle_value, "float32"), "grader bug: reference != torch"
        if judged == "returned":
            _expect_norm(call, got["returned"][k], want_value, oracle_value, before)
        else:
            _expect_clipped_at_step(call, norms, max_norm, before)
            _expect_weights(call, got["params"][k], want["params"][k], norms, want_norms[k], max_norm, before,
                            want["params"][k - 1] if k else None)
            _expect_scale(call, got["scales"][k], want["scales"][k], before)
        before = want["scales"][k]


@visible
@points(2)
def test_large_loss_scale(judge):
    """GradScaler('cpu', init_scale=65536), SGD lr 0.1, max_norm 1.0, three steps of a 4 -> 6 -> 2 MLP whose
    gradients exceed 1: each update is clipped to norm 1 of the *unscaled* gradients."""
    check(judge, scenario(gain=3.0))


@visible
@points(1)
def test_skips_a_step_whose_loss_is_nan(judge):
    """The second of three losses is NaN: the scaler skips that update and halves its scale."""
    check(judge, scenario(steps=3, nan_step=1, gain=3.0))


@points(2)
def test_returns_the_unscaled_norm_before_clipping(judge):
    """The return value alone (training has checks of its own): each call's norm of the unscaled gradients
    before clipping, inf or NaN for a step the scaler skips."""
    check(judge, scenario(gain=3.0), judged="returned")
    check(judge, scenario(steps=3, nan_step=1, gain=3.0), judged="returned")
    check(judge, scenario(gain=0.1, max_norm=100.0, steps=2), judged="returned")


@points(1)
def test_default_max_norm(judge):
    check(judge, scenario(max_norm=None, gain=4.0, steps=2))


@points(1)
def test_small_gradients_are_not_scaled(judge):
    check(judge, scenario(gain=0.1, max_norm=100.0, steps=2))


@points(1)
def test_adam_with_clipping(judge):
    check(judge, scenario(optimizer="adam", lr=0.01, gain=3.0, max_norm=0.5, steps=3))


@points(1)
def test_scale_grows_after_clean_steps(judge):
    check(judge, scenario(steps=4, growth_interval=2, gain=2.0, max_norm=0.5))


@points(1)
def test_first_step_overflows(judge):
    check(judge, scenario(steps=2, nan_step=0, optimizer="momentum", gain=2.0))


@points(1)
def test_gradients_from_before_are_cleared(judge):
    check(judge, scenario(steps=2, stale=3.0, max_norm=100.0, scale=1.0))


@pytest.mark.tier("parity")
@points(1)
def test_frozen_and_unused_parameters(judge):
    """Fine-tuning under AMP: the first layer frozen (requires_grad off) and a parameter the forward never
    uses keep .grad None; unscale_, the norm, the clipping and the step skip them."""
    check(judge, scenario(frozen=(0, 1), unused=True, gain=3.0, max_norm=0.5, optimizer="momentum"))


@st.composite
def amp_scenarios(draw) -> Scenario:
    steps = draw(st.integers(1, 3))
    return scenario(
        sizes=draw(st.sampled_from([(3, 1), (4, 3, 2), (5, 8, 1)])),
        optimizer=draw(st.sampled_from(sorted(OPTIMIZERS))),
        lr=draw(st.sampled_from([0.01, 0.1])),
        steps=steps,
        batch=draw(st.integers(1, 4)),
        max_norm=draw(st.sampled_from([0.1, 0.5, 1.0, 100.0, None])),
        gain=draw(st.sampled_from([0.1, 1.0, 5.0])),
        seed=draw(st.integers(0, 1000)),
        data_seed=draw(st.integers(0, 2**16)),
        scale=draw(st.sampled_from([2.0**10, BIG_SCALE])),
        growth_interval=draw(st.sampled_from([1, 2, 100])),
        nan_step=draw(st.sampled_from([None, None, 0, steps - 1])),
    )


@points(4)
@given(s=amp_scenarios())
def test_matches_torch_on_generated_training_runs(judge, s):
    check(judge, s)
