"""Hidden suite: train_step_with_clipping, step by step against the reference (zero_grad, backward,
clip_grad_norm_, step).

What is judged is what training sees: the gradient norm when optimizer.step()
runs, the weights after every step, and the pre-clip norm the function returns.
How the student clears, clips or steps is their business.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradkata.suitekit import (Mismatch, close, fmt_array, fmt_num, fmt_value, number, points,
                             tolerance, trusted_number, visible)
from gradkata.katas.train_step_with_clipping.driver import Observation, Scenario
from gradkata.worker.shapes import model_spec

KATA = "train_step_with_clipping"
DEFAULT_MAX_NORM = 1.0
OPTIMIZERS = {"sgd": "SGD", "momentum": "SGD with momentum 0.9", "adam": "Adam"}


def scenario(sizes, optimizer="sgd", lr=0.1, steps=3, batch=4, max_norm=1.0, gain=1.0, stale=0.0, seed=0,
             data_seed=0, same_batch=False, frozen=(), unused=False) -> Scenario:
    """A small tanh MLP (float64) trained for ``steps`` calls on MSE; max_norm None uses the default."""
    rng = np.random.default_rng(data_seed)
    n = 1 if same_batch else steps
    x = rng.normal(size=(n, batch, sizes[0]))
    y = rng.normal(size=(n, batch, sizes[-1]))
    if same_batch:
        x, y = np.repeat(x, steps, axis=0), np.repeat(y, steps, axis=0)
    model = model_spec(sizes, seed, gain, frozen=frozen, unused=unused)
    return {"model": model, "optimizer": {"optimizer": optimizer, "lr": lr}, "x": x, "y": y,
            "max_norm": None if max_norm is None else float(max_norm), "stale": stale}


def _call(s: Scenario, k: int) -> str:
    model = "Linear" if len(s["model"]["sizes"]) == 2 else "MLP"
    opt = s["optimizer"]
    args = (f"model={model}{s['model']['sizes']}, optimizer={OPTIMIZERS[opt['optimizer']]}(lr={fmt_num(opt['lr'])}), "
            f"loss=MSE on a batch of {s['x'].shape[1]}")
    if s["max_norm"] is not None:
        args += f", max_norm={fmt_num(s['max_norm'])}"
    steps = s["x"].shape[0]
    stale = f", with gradients of {fmt_num(s['stale'])} left from before" if s.get("stale") and k == 0 else ""
    return f"train_step_with_clipping({args}) (call {k + 1} of {steps}{stale})"


def _per_call(obs: Observation) -> list[list[float]]:
    """The gradient norms seen by optimizer.step(), grouped by the call they happened in."""
    events, starts = obs["events"], obs["step_starts"] + [len(obs["events"])]
    norms, out, seen = obs["norms_at_step"], [], 0
    for a, b in zip(starts, starts[1:]):
        n = events[a:b].count("step")
        out.append(list(norms[seen:seen + n]))
        seen += n
    return out


def _expect_clipped_at_step(call: str, norms: list[float], max_norm: float) -> None:
    rtol = tolerance("float64")[0]
    for norm in norms:
        if norm > max_norm * (1 + rtol) + 1e-12:
            raise Mismatch(f"Called {call}. At optimizer.step() the gradient norm was {fmt_num(norm)} > max_norm "
                           f"{fmt_num(max_norm)}: the update used unclipped gradients. Clip after "
                           "loss.backward() and before optimizer.step().")


def _expect_pre_clip_norm(call: str, got: dict, want: float, accumulated: bool, rtol: float) -> None:
    value = number(got)
    if value is None:
        raise Mismatch(f"Called {call}. Returned {fmt_value(got)}, expected the gradient norm before clipping, "
                       f"{fmt_num(want)} (as torch.nn.utils.clip_grad_norm_ returns it).")
    if not abs(value - want) <= rtol * abs(want) + 1e-12:
        hint = ""
        if value == 0:
            hint = " The gradients were already cleared when the norm was measured."
        elif value > want and accumulated:
            hint = " A larger norm than expected suggests earlier gradients were not cleared before backward."
        elif value < want:
            hint = " Return the norm measured before clipping, not after."
        raise Mismatch(f"Called {call}. Returned {fmt_num(value)}, expected the pre-clip gradient norm "
                       f"{fmt_num(want)}.{hint}")


def _misses(got: np.ndarray, want: np.ndarray, start: np.ndarray, scale: float, rtol: float) -> np.ndarray:
    """Where the weights moved differently from the reference's. Distances moved from the start
    are compared, not the weights themselves: a weight that happens to be near zero would
    otherwise magnify the ambiguity below. ``scale`` is the largest distance the reference's
    weights have moved so far."""
    moved_got, moved_want = np.asarray(got) - start, np.asarray(want) - start
    return ~np.isclose(moved_got, moved_want, rtol=rtol, atol=rtol * scale + 1e-300, equal_nan=True)


def _update_rtol(pre_clip: list[float], max_norm: float) -> float:
    """Clipping is ambiguous by 1e-6 / norm: torch scales by max_norm / (norm + 1e-6), an exact
    implementation by max_norm / norm. Momentum and Adam carry that into later steps, so the
    smallest norm clipped so far sets the tolerance; a wrong update is off by far more."""
    clipped = [n for n in pre_clip if n > max_norm]
    return 1e-5 + (10 * 1e-6 / min(clipped) if clipped else 0.0)


def _expect_weights(call: str, got: list, want: list, start: list, scales: list[float], norms: list[float],
                    want_norms: list[float], rtol: float) -> None:
    for i, (g, w, s0, scale) in enumerate(zip(got, want, start, scales)):
        misses = _misses(g, w, s0, scale, rtol)
        if not misses.any():
            continue
        where = np.unravel_index(int(np.argmax(misses)), misses.shape)
        first = (f" (first difference at index {list(map(int, where))}: {fmt_num(g[where])} instead of "
                 f"{fmt_num(w[where])})" if misses.size > 6 else "")
        if not norms:
            why = " optimizer.step() was never called, so the weights did not get this step's update."
        elif len(norms) > 1:
            why = f" optimizer.step() was called {len(norms)} times in one training step."
        elif want_norms and not close(norms[0], want_norms[0], "float64"):
            why = (f" At optimizer.step() the gradient norm was {fmt_num(norms[0])}, expected "
                   f"{fmt_num(want_norms[0])}" + (": the gradients were zero, so the update did nothing"
                                                   if norms[0] == 0 else "") + ".")
        else:
            why = ""
        raise Mismatch(f"Called {call}. Afterwards parameter {i} of the model is {fmt_array(g)}, expected "
                       f"{fmt_array(w)}{first}.{why}")


def check(judge, s: Scenario, judged: str = "training") -> None:
    """``judged``: "training" compares what training sees (the norm at optimizer.step() and the weights
    after every call), "returned" the pre-clip norm each call returns, and only that: a wrong return
    value costs the return-value checks, not the training ones."""
    want = judge.reference(s)
    got: Observation = judge.candidate(s)
    max_norm = DEFAULT_MAX_NORM if s["max_norm"] is None else s["max_norm"]
    got_norms, want_norms = _per_call(got), _per_call(want)
    pre_clip = [trusted_number(r) for r in want["returned"]]
    start = want["initial"]
    scales = [0.0] * len(start)
    for k in range(s["x"].shape[0]):
        call = _call(s, k)
        norms = got_norms[k] if k < len(got_norms) else []
        if judged == "returned":
            # The first call starts where the reference starts; later ones inherit the
            # (tolerated) drift of the earlier updates.
            carried = _update_rtol(pre_clip[:k], max_norm) * 10 if k else tolerance("float64")[0]
            _expect_pre_clip_norm(call, got["returned"][k], pre_clip[k], k > 0 or bool(s.get("stale")), carried)
            continue
        _expect_clipped_at_step(call, norms, max_norm)
        scales = [max(sc, float(np.abs(np.asarray(w) - s0).max(initial=0.0)))
                  for sc, w, s0 in zip(scales, want["params"][k], start)]
        rtol = _update_rtol(pre_clip[:k + 1], max_norm)
        _expect_weights(call, got["params"][k], want["params"][k], start, scales, norms, want_norms[k], rtol)


@visible
@points(2)
def test_linear_regression_five_steps(judge):
    """As in the seeds' training loop: Linear(5, 1), SGD lr 0.2, max_norm 1.0, five steps on one batch;
    the norm before clipping starts above 1 and every update is clipped to 1."""
    check(judge, scenario([5, 1], lr=0.2, steps=5, batch=64, max_norm=1.0, gain=3.0, same_batch=True))


@visible
@points(2)
def test_small_net_with_the_default_max_norm(judge):
    """As in the seeds' SimpleNet: 10 -> 5 -> 2, SGD lr 0.01, called without max_norm (default 1.0)."""
    check(judge, scenario([10, 5, 2], lr=0.01, steps=5, batch=32, max_norm=None, gain=4.0, same_batch=True))


@st.composite
def training_scenarios(draw) -> Scenario:
    return scenario(
        sizes=draw(st.sampled_from([(3, 1), (4, 3, 2), (5, 8, 1), (2, 6, 6, 3)])),
        optimizer=draw(st.sampled_from(sorted(OPTIMIZERS))),
        lr=draw(st.sampled_from([0.01, 0.1])),
        steps=draw(st.integers(1, 3)),
        batch=draw(st.integers(1, 4)),
        max_norm=draw(st.sampled_from([0.05, 0.5, 1.0, 100.0, None])),
        # Small and large gradients: gain scales every weight of the model.
        gain=draw(st.sampled_from([0.1, 1.0, 5.0])),
        stale=draw(st.sampled_from([0.0, 0.0, 0.5])),
        seed=draw(st.integers(0, 1000)),
        data_seed=draw(st.integers(0, 2**16)),
    )


@points(4)
@given(s=training_scenarios())
def test_matches_torch_on_generated_training_runs(judge, s):
    check(judge, s)


@points(1)
def test_gradients_from_before_are_cleared(judge):
    check(judge, scenario([4, 3, 2], steps=2, stale=3.0, max_norm=100.0))


@points(1)
def test_clipping_happens_before_the_step(judge):
    check(judge, scenario([4, 8, 2], steps=2, gain=5.0, max_norm=0.1))


@points(1)
def test_returns_the_norm_before_clipping(judge):
    """The return value alone (training has checks of their own): each call's norm before clipping."""
    check(judge, scenario([3, 4, 1], steps=2, gain=5.0, max_norm=0.5), judged="returned")
    check(judge, scenario([10, 5, 2], lr=0.01, steps=2, batch=32, max_norm=None, gain=4.0, same_batch=True),
          judged="returned")
    check(judge, scenario([4, 3, 2], steps=2, gain=0.1, max_norm=100.0), judged="returned")


@points(1)
def test_small_gradients_are_not_scaled(judge):
    check(judge, scenario([3, 4, 1], steps=3, gain=0.1, max_norm=100.0))


@points(1)
def test_momentum_sees_clipped_gradients(judge):
    check(judge, scenario([4, 6, 2], optimizer="momentum", steps=3, gain=3.0, max_norm=0.5))


@points(1)
def test_adam_sees_clipped_gradients(judge):
    check(judge, scenario([4, 6, 2], optimizer="adam", lr=0.01, steps=3, gain=3.0, max_norm=0.5))


@points(1)
def test_threshold_equal_to_the_gradient_norm(judge):
    probe = scenario([4, 3, 2], steps=1, max_norm=1e9, data_seed=7)
    norm = number(judge.reference(probe)["returned"][0])
    check(judge, scenario([4, 3, 2], steps=1, max_norm=norm, data_seed=7))


@pytest.mark.tier("parity")
@points(1)
def test_frozen_parameters(judge):
    """Fine-tuning: the first layer frozen (requires_grad off, .grad None): it is skipped by the norm and
    the clipping and stays as it was; the rest trains clipped, with momentum. A parameter the forward never
    uses keeps .grad None too."""
    check(judge, scenario((4, 6, 2), optimizer="momentum", frozen=(0, 1), gain=3.0, max_norm=0.5))
    check(judge, scenario((4, 6, 2), optimizer="momentum", unused=True, gain=3.0, max_norm=0.5))
