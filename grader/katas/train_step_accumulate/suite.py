"""Hidden suite: train_step_accumulate against the reference and one backward of the mean loss + clip_grad_norm_."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradkata.suitekit import (Mismatch, close, expect_arrays, expect_number, fmt_num, number, points,
                               trusted_number, visible)
from gradkata.worker.shapes import model_spec
from gradkata.katas.train_step_accumulate.driver import MicroBatch, Observation, Scenario

KATA = "train_step_accumulate"


def scenario(sizes_per_step, *, seed=0, sizes=(3, 5, 2), gain=1.0, optimizer="sgd", lr=0.1, criterion="mse",
             max_norm=1.0, stale=0.5, frozen=(), unused=False, dropout=0.0) -> Scenario:
    """sizes_per_step: for each call, the row counts of its micro-batches. ``frozen``: parameter indices
    with requires_grad off; ``unused``: a parameter the forward never touches; ``dropout``: a Dropout after
    each hidden layer (the model in train mode, as a training loop hands it over)."""
    rng = np.random.default_rng(seed)
    steps: list[list[MicroBatch]] = [[{"x": rng.normal(size=(rows, sizes[0])), "y": 2.0 * rng.normal(size=(rows, sizes[-1]))}
              for rows in micro] for micro in sizes_per_step]
    model = model_spec(sizes, seed, gain, frozen=frozen, unused=unused, dropout=dropout)
    return {"model": model,
            "optimizer": {"optimizer": optimizer, "lr": lr}, "criterion": criterion, "steps": steps,
            "max_norm": max_norm, "stale": stale}


def call_text(s: Scenario, t: int) -> str:
    rows = [len(mb["x"]) for mb in s["steps"][t]]
    limit = "" if s["max_norm"] is None else f", max_norm={fmt_num(s['max_norm'])}"
    return (f"train_step_accumulate(model, {s['optimizer']['optimizer']} optimizer, {s['criterion']} criterion, "
            f"{len(rows)} micro-batches of {rows} rows{limit}) (call {t + 1} of {len(s['steps'])})")


def calls_events(obs: Observation, t: int) -> list[str]:
    starts = obs["step_starts"] + [len(obs["events"])]
    return obs["events"][starts[t]:starts[t + 1]]


def check(judge, s: Scenario, judged: str = "training") -> None:
    """``judged``: "training" compares the optimizer steps, the norm they see and the weights; "returned"
    only the norm each call returns, so a wrong return value costs the return-value check alone."""
    want, oracle = judge.reference(s), judge.oracle(s)
    for w, o in zip(want["params"], oracle["params"]):
        assert all(close(a, b) for a, b in zip(w, o)), "grader bug: the reference disagrees with torch"
    got: Observation = judge.candidate(s)
    max_norm = 1.0 if s["max_norm"] is None else s["max_norm"]
    for t in range(len(s["steps"])):
        call = call_text(s, t)
        if judged == "returned":
            expect_number(call, got["returned"][t], trusted_number(want["returned"][t]),
                          number(oracle["returned"][t]), "float64",
                          what="the norm of the accumulated (average-loss) gradient before clipping")
            continue
        steps = calls_events(got, t).count("step")
        if steps != 1:
            raise Mismatch(f"Called {call}. optimizer.step() was called {steps} times, expected once, after the "
                           "last micro-batch.")
        seen, expected = got["norms_at_step"][t], want["norms_at_step"][t]
        if not (seen <= max_norm * (1 + 1e-5) + 1e-12 and close(seen, expected)):
            raise Mismatch(f"Called {call}. At optimizer.step() the gradient norm was {fmt_num(seen)}, expected "
                           f"{fmt_num(expected)} (PyTorch gives {fmt_num(oracle['norms_at_step'][t])}): the "
                           f"accumulated gradient clipped once to max_norm {fmt_num(max_norm)}.")
        expect_arrays(call, "weights", got["params"][t], want["params"][t], oracle["params"][t])


@visible
@points(2)
def test_worked_example(judge):
    """Two micro-batches, SGD, gradients well above max_norm: clip the accumulated sum once."""
    check(judge, scenario([[4, 4]], gain=3.0, max_norm=1.0))


@visible
@points(1)
def test_small_gradients_pass_unclipped(judge):
    check(judge, scenario([[3, 3, 2]], max_norm=100.0, seed=1))


@points(2)
def test_returns_the_norm_before_clipping(judge):
    """The return value alone (training has checks of its own): the accumulated gradient's norm before
    clipping, whether or not it was clipped."""
    check(judge, scenario([[4, 4], [2, 3]], gain=3.0, max_norm=1.0, seed=7), judged="returned")
    check(judge, scenario([[3, 3, 2]], max_norm=100.0, seed=1), judged="returned")


@points(5)
@given(seed=st.integers(0, 10**6), steps=st.integers(1, 3), micro=st.integers(1, 4),
       optimizer=st.sampled_from(["sgd", "momentum", "adam"]), criterion=st.sampled_from(["mse", "l1", "huber"]),
       max_norm=st.sampled_from([None, 0.05, 0.5, 2.0, 100.0]), gain=st.sampled_from([0.5, 1.0, 3.0]),
       ragged=st.booleans())
def test_matches_torch_on_generated_runs(judge, seed, steps, micro, optimizer, criterion, max_norm, gain, ragged):
    rng = np.random.default_rng(seed)
    rows = [[int(rng.integers(1, 5)) if ragged else 3 for _ in range(micro)] for _ in range(steps)]
    check(judge, scenario(rows, seed=seed % 997, optimizer=optimizer, criterion=criterion, max_norm=max_norm,
                          gain=gain, lr=0.01 if optimizer == "adam" else 0.1))


@points(2)
def test_clipped_once_not_per_micro_batch(judge):
    """Four micro-batches whose gradients each exceed max_norm: the sum of clipped parts is not the clipped sum."""
    check(judge, scenario([[2, 2, 2, 2], [2, 2, 2, 2]], gain=4.0, max_norm=0.5, seed=2))


@points(2)
def test_loss_is_averaged_over_micro_batches(judge):
    """Below the threshold nothing is clipped, so the step shows whether the losses were averaged or summed."""
    check(judge, scenario([[3, 3, 3], [2, 4, 1]], max_norm=1e6, seed=3))


@points(1)
def test_stale_gradients_are_cleared(judge):
    check(judge, scenario([[2, 2], [2, 2]], stale=5.0, max_norm=100.0, seed=4))


@points(1)
def test_default_max_norm(judge):
    check(judge, scenario([[3, 3]], gain=3.0, max_norm=None, seed=5))


@points(1)
def test_one_backward_per_micro_batch(judge):
    """Accumulation exists to save memory: each micro-batch's graph is freed by its own backward."""
    s = scenario([[2, 2, 2]], seed=6)
    got: Observation = judge.candidate(s)
    backwards = calls_events(got, 0).count("backward")
    if backwards != 3:
        raise Mismatch(f"Called {call_text(s, 0)}. Observed {backwards} backward passes, expected 3: call "
                       "loss.backward() once per micro-batch instead of building one graph over all of them.")
    check(judge, s)


# --- parity: what real models add (deterministic, one check each) ----------------------------

@pytest.mark.tier("parity")
@points(1)
def test_frozen_and_unused_parameters(judge):
    """Fine-tuning: the first layer frozen (requires_grad off) and a parameter the forward never uses; both
    keep .grad None after backward, are skipped by the norm and the clipping, and stay as they were."""
    check(judge, scenario([[3, 3], [2, 2]], gain=3.0, max_norm=0.5, seed=8, frozen=(0, 1), unused=True,
                          optimizer="momentum"))


@pytest.mark.tier("parity")
@points(1)
def test_dropout_model(judge):
    """A model with dropout, handed over in train mode: every micro-batch's forward draws its own mask, in
    order, and the accumulated gradient is clipped once."""
    check(judge, scenario([[3, 3, 2], [2, 2]], gain=3.0, max_norm=0.5, seed=9, dropout=0.5))
