"""Hidden suite: train_rnn_with_clipping against the reference loop and a torch oracle loop.

Judged through what training does, observed in the worker: the optimizer the
loop steps (Adam, lr), every gradient norm at optimizer.step() time (never
above max_norm), how many steps ran (an epoch stops at a NaN/Inf loss before
stepping on it), the weights at the end, validation after every epoch without
autograd, and the model returned.

Interview tier: the article's loop on the runs it is written for (finite losses).
Parity tier: real training's wider contract, one check each -- the NaN/Inf
check before backward and step (the article checks after optimizer.step(),
when the weights are already NaN), frozen and unused parameters (grad None),
and a model with dropout, where model.train() each epoch and eval() for
validation matter.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradkata.katas.train_rnn_with_clipping.scenarios import scenario
from gradkata.suitekit import Mismatch, close, fmt_array, fmt_num, fmt_value, points, tolerance, visible
from gradkata.katas.train_rnn_with_clipping.driver import Observation, Scenario

KATA = "train_rnn_with_clipping"


def _call(s: Scenario) -> str:
    m = s["model"]
    b, bs, t = s["train_x"].shape[:3]
    nan = np.isnan(s["train_x"]).any(axis=(1, 2, 3))
    extra = f"; training batch {int(np.argmax(nan))} has a NaN loss" if nan.any() else ""
    return (f"train_rnn_with_clipping(model=RNN({m['input']}->{m['hidden']})+Linear(->{m['classes']}), "
            f"train_loader of {b} batches of {bs} sequences of length {t}, val_loader of {s['val_x'].shape[0]} "
            f"batches, epochs={s['epochs']}, lr={fmt_num(s['lr'])}, max_norm={fmt_num(s['max_norm'])}, "
            f"device='cpu'){extra}")


def _expect_optimizer(call: str, got: Observation, lr: float) -> None:
    kinds = set(got["optimizers"])
    if kinds and kinds != {"Adam"}:
        raise Mismatch(f"Called {call}. The loop stepped {', '.join(sorted(kinds))}; use "
                       f"torch.optim.Adam(model.parameters(), lr=lr).")
    if any(not close(v, lr) for v in got["lrs"]):
        raise Mismatch(f"Called {call}. The optimizer's learning rate was {fmt_num(got['lrs'][0])}, expected "
                       f"lr={fmt_num(lr)}.")


def _expect_clipped(call: str, norms: list[float], max_norm: float) -> None:
    for k, norm in enumerate(norms):
        if norm > max_norm * (1 + tolerance("float64")[0]) + 1e-12:
            raise Mismatch(f"Called {call}. At optimizer.step() number {k + 1} the gradient norm was "
                           f"{fmt_num(norm)} > max_norm {fmt_num(max_norm)}: the update used unclipped gradients. "
                           "Clip after loss.backward() and before optimizer.step().")


def _expect_steps(call: str, got: Observation, want: dict) -> None:
    n, m = len(got["norms_at_step"]), len(want["norms_at_step"])
    if n == m:
        return
    hint = ""
    if n > m and any(np.isnan(got["norms_at_step"])):
        hint = (" Some steps had NaN gradients: check the loss with math.isfinite(loss.item()) right after the "
                "forward pass and break before backward and step.")
    raise Mismatch(f"Called {call}. optimizer.step() ran {n} times, expected {m} (one per training batch, and "
                   f"an epoch stops at the first NaN/Inf loss).{hint}")


def _expect_validation(call: str, got: Observation, s: Scenario) -> None:
    phase, val_batches, grad_in_val = None, 0, False
    for e in got["events"]:
        if e.startswith("train:"):
            phase = "train"
        elif e.startswith("val:"):
            phase, val_batches = "val", val_batches + 1
        elif e == "forward" and phase == "val":
            grad_in_val = True
    want = s["epochs"] * s["val_x"].shape[0]
    if val_batches != want:
        raise Mismatch(f"Called {call}. The loop drew {val_batches} validation batches, expected {want}: evaluate "
                       "on the whole val_loader once after every epoch.")
    if grad_in_val:
        raise Mismatch(f"Called {call}. Validation ran the model with autograd on; wrap evaluation in "
                       "torch.no_grad() (and call model.eval()).")


def _expect_weights(call: str, got: list, want: list, oracle: list | None) -> None:
    for i, (g, w) in enumerate(zip(got, want)):
        if close(g, w, "float32"):
            continue
        torch_says = f" (PyTorch gives {fmt_array(oracle[i])})" if oracle is not None else ""
        why = ""
        if np.isnan(g).any() and not np.isnan(w).any():
            why = (" The weights are NaN: an update was made from a NaN loss. Check the loss before "
                   "loss.backward() and break out of the epoch.")
        raise Mismatch(f"Called {call}. After training, parameter {i} of the model is {fmt_array(g)}, expected "
                       f"{fmt_array(w)}{torch_says}.{why}")


def check(judge, s: Scenario) -> None:
    call = _call(s)
    want, oracle = judge.reference(s), judge.oracle(s)
    if oracle is not None:
        assert all(close(w, o, "float32") for w, o in zip(want["params"], oracle["params"])), \
            "grader bug: reference != torch"
    got: Observation = judge.candidate(s)
    if not got["same_model"]:
        raise Mismatch(f"Called {call}. Returned {fmt_value(got['returned'])}, expected the model it trained.")
    _expect_optimizer(call, got, s["lr"])
    _expect_clipped(call, got["norms_at_step"], s["max_norm"])
    _expect_steps(call, got, want)
    _expect_weights(call, got["params"], want["params"], oracle["params"] if oracle else None)
    if not close(got["norms_at_step"], want["norms_at_step"], "float32"):
        raise Mismatch(f"Called {call}. The gradient norms at optimizer.step() were "
                       f"{fmt_array(got['norms_at_step'])}, expected {fmt_array(want['norms_at_step'])}.")
    _expect_validation(call, got, s)


@visible
@points(2)
def test_two_epochs_with_clipping(judge):
    """RNN(3->4)+Linear(->3), three batches of two sequences of length 4, two epochs, Adam lr 0.05,
    max_norm 0.3: every step is clipped to norm 0.3."""
    check(judge, scenario(gain=2.0))


@points(1)
def test_small_gradients_are_not_clipped(judge):
    check(judge, scenario(max_norm=100.0, epochs=2))


@points(1)
def test_one_epoch_longer_sequences(judge):
    check(judge, scenario(time=8, hidden=6, epochs=1, batches=4, max_norm=0.1, gain=3.0))


@points(1)
def test_validation_each_epoch(judge):
    check(judge, scenario(val_batches=2, epochs=3, batches=2))


parity = pytest.mark.tier("parity")


@visible
@parity
@points(2)
def test_stops_the_epoch_at_a_nan_loss(judge):
    """The second training batch has a NaN input, so its loss is NaN: each epoch trains on the first batch
    only, and the weights stay finite. Then a NaN in the very first batch: no step at all."""
    check(judge, scenario(batches=3, nan_batch=1, epochs=2, gain=2.0))
    check(judge, scenario(batches=2, nan_batch=0, epochs=2))


@parity
@points(1)
def test_frozen_and_unused_parameters(judge):
    """A frozen recurrent weight (requires_grad off) and a parameter the forward never uses: both keep
    .grad None, are skipped by the norm and the clipping, and stay unchanged."""
    check(judge, scenario(frozen=(0,), unused=True, gain=2.0, epochs=2))


@parity
@points(1)
def test_dropout_model_train_and_eval_modes(judge):
    """A model with dropout: model.train() at the start of every epoch (evaluate() left it in eval mode) and
    model.eval() with torch.no_grad() for validation."""
    check(judge, scenario(dropout=0.5, epochs=3, batches=2, val_batches=1, gain=1.5, max_norm=0.5))


@st.composite
def loop_scenarios(draw) -> Scenario:
    """The interview's input space: the article's runs, every loss finite."""
    batches = draw(st.integers(1, 4))
    return scenario(
        n_in=draw(st.integers(1, 3)), hidden=draw(st.integers(2, 5)), classes=draw(st.integers(2, 4)),
        batches=batches, batch=draw(st.integers(1, 3)), time=draw(st.integers(1, 5)),
        val_batches=draw(st.integers(1, 2)), epochs=draw(st.integers(1, 3)),
        lr=draw(st.sampled_from([0.01, 0.05])), max_norm=draw(st.sampled_from([0.05, 0.3, 1.0, 100.0])),
        gain=draw(st.sampled_from([0.5, 1.0, 3.0])), seed=draw(st.integers(0, 1000)),
        data_seed=draw(st.integers(0, 2**16)),
    )  # finite losses only: the NaN guard is the parity tier's, in its own check


@points(4)
@given(s=loop_scenarios())
def test_matches_torch_on_generated_runs(judge, s):
    check(judge, s)
