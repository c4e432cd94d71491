"""Hidden suite: find_clipping_threshold against the reference and a torch.quantile oracle.

Judged: the per-batch pre-clip norms (one per batch, at most num_batches, each
batch's own), the suggested 90th percentile, and weights left exactly as they were.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradkata.katas.find_clipping_threshold.scenarios import scenario
from gradkata.suitekit import Mismatch, close, fmt_array, fmt_num, fmt_value, number, points, visible
from gradkata.katas.find_clipping_threshold.driver import Observation, Scenario

KATA = "find_clipping_threshold"


def _call(s: Scenario) -> str:
    n, b = s["x"].shape[:2]
    sizes = s["model"]["sizes"]
    extra = "" if s["num_batches"] is None else f", num_batches={s['num_batches']}"
    stale = f" (with gradients of {fmt_num(s['stale'])} left in .grad beforehand)" if s.get("stale") else ""
    return (f"find_clipping_threshold(model=MLP{sizes}, dataloader of {n} batches of {b}, "
            f"criterion=CrossEntropyLoss(), device='cpu'{extra}){stale}")


def _expect_weights_untouched(call: str, got: Observation, want: dict) -> None:
    for i, (g, w) in enumerate(zip(got["params"], want["params"])):
        if not np.array_equal(g, w):
            how = (f" optimizer.step() was called {got['optimizer_steps']} times." if got["optimizer_steps"]
                   else "")
            raise Mismatch(f"Called {call}. Afterwards parameter {i} of the model is {fmt_array(g)}, expected it "
                           f"unchanged, {fmt_array(w)}.{how} Finding a threshold only measures gradients: do not "
                           "update, clip or otherwise modify the model.")


def _expect_norms(call: str, got: dict, want: np.ndarray, oracle: np.ndarray | None) -> None:
    if got.get("type") != "ndarray":
        raise Mismatch(f"Called {call}. The first item returned is {fmt_value(got)}, expected the per-batch norms "
                       f"as a NumPy array, {fmt_array(want)} (wrap your list in np.array).")
    norms = np.asarray(got["value"], dtype=np.float64)
    if norms.shape != want.shape:
        raise Mismatch(f"Called {call}. Returned {norms.size} norms (shape {list(norms.shape)}), expected one per "
                       f"batch looked at: {want.size} (shape {list(want.shape)}). Stop after num_batches batches.")
    if not close(norms, want, "float64"):
        torch_says = f" (PyTorch gives {fmt_array(oracle)})" if oracle is not None else ""
        hint = ""
        if norms.size and close(norms[:1], want[:1], "float64") and np.any(norms[1:] > want[1:] * (1 + 1e-6)):
            hint = (" The first norm is right and later ones are too large: the gradients of earlier batches "
                    "were still in .grad. Call model.zero_grad() before each backward.")
        elif norms.size and np.all(norms <= want * (1 + 1e-9)) and np.any(norms < want * (1 - 1e-6)):
            hint = " Record the norm straight after loss.backward(), before anything changes the gradients."
        raise Mismatch(f"Called {call}. Returned norms {fmt_array(norms)}, expected {fmt_array(want)}"
                       f"{torch_says}.{hint}")


def check(judge, s: Scenario) -> None:
    call = _call(s)
    want, oracle = judge.reference(s), judge.oracle(s)
    want_norms = np.asarray(want["returned"]["items"][0]["value"])
    want_suggested = number(want["returned"]["items"][1])
    oracle_norms = oracle_suggested = None
    if oracle is not None:
        oracle_norms = np.asarray(oracle["returned"]["items"][0]["value"])
        oracle_suggested = number(oracle["returned"]["items"][1])
        assert close(want_norms, oracle_norms) and close(want_suggested, oracle_suggested), \
            "grader bug: reference != torch"
    got: Observation = judge.candidate(s)
    _expect_weights_untouched(call, got, want)
    ret = got["returned"]
    if ret.get("type") not in ("tuple", "list") or ret.get("length") != 2:
        raise Mismatch(f"Called {call}. Returned {fmt_value(ret)}, expected a pair (norms, suggested).")
    _expect_norms(call, ret["items"][0], want_norms, oracle_norms)
    suggested = number(ret["items"][1])
    if suggested is None or not close(suggested, want_suggested, "float64"):
        shown = fmt_value(ret["items"][1]) if suggested is None else fmt_num(suggested)
        torch_says = f" (PyTorch gives {fmt_num(oracle_suggested)})" if oracle_suggested is not None else ""
        raise Mismatch(f"Called {call}. Suggested max_norm {shown}, expected the 90th percentile of the norms, "
                       f"{fmt_num(want_suggested)}{torch_says} (np.percentile(norms, 90)).")


@visible
@points(2)
def test_five_batches(judge):
    """Five batches of a small classifier, default num_batches: five norms and their 90th percentile."""
    check(judge, scenario(batches=5, spread=(1.0, 3.0, 0.5, 2.0, 1.5)))


@visible
@points(1)
def test_stops_after_num_batches(judge):
    """Ten batches, num_batches=4: only the first four are measured."""
    check(judge, scenario(batches=10, num_batches=4, spread=(1.0, 2.0, 4.0)))


@points(1)
def test_loader_shorter_than_num_batches(judge):
    check(judge, scenario(batches=3, num_batches=50))


@points(1)
def test_each_norm_is_its_own_batch(judge):
    check(judge, scenario(sizes=(3, 5, 2), batches=6, gain=2.0, spread=(1.0, 0.2, 5.0)))


@points(1)
def test_gradients_left_from_before_are_cleared(judge):
    check(judge, scenario(batches=3, stale=2.0))


@points(1)
def test_large_gradients_are_recorded_unclipped(judge):
    check(judge, scenario(sizes=(4, 8, 3), batches=4, gain=4.0, spread=(3.0, 10.0)))


@points(1)
def test_one_batch(judge):
    check(judge, scenario(batches=1, gain=2.0))


@st.composite
def threshold_scenarios(draw) -> Scenario:
    batches = draw(st.integers(1, 8))
    return scenario(
        sizes=draw(st.sampled_from([(3, 2), (4, 6, 3), (5, 4, 4, 2)])),
        batches=batches,
        batch=draw(st.integers(1, 5)),
        num_batches=draw(st.sampled_from([None, 1, 3, batches, batches + 2])),
        gain=draw(st.sampled_from([0.3, 1.0, 4.0])),
        stale=draw(st.sampled_from([0.0, 0.0, 1.0])),
        seed=draw(st.integers(0, 1000)),
        data_seed=draw(st.integers(0, 2**16)),
        spread=draw(st.lists(st.sampled_from([0.1, 1.0, 3.0, 10.0]), min_size=1, max_size=4)),
    )


@points(4)
@given(s=threshold_scenarios())
def test_matches_torch_on_generated_runs(judge, s):
    check(judge, s)


# --- parity: what real models add (deterministic, one check each) ----------------------------

@pytest.mark.tier("parity")
@points(1)
def test_frozen_and_unused_parameters(judge):
    """A frozen first layer (requires_grad off) and a parameter the forward never uses: their .grad stays
    None, so they add nothing to the norm (and must not make it raise)."""
    check(judge, scenario(sizes=(4, 6, 3), batches=4, gain=2.0, spread=(1.0, 3.0), frozen=(0, 1), unused=True))


@pytest.mark.tier("parity")
@points(1)
def test_dropout_model_is_measured_in_train_mode(judge):
    """A model with dropout, handed over in eval mode (as the last evaluation left it): the norms are
    training's, measured after model.train(), with dropout active."""
    check(judge, scenario(sizes=(4, 8, 3), batches=4, gain=2.0, spread=(1.0, 2.0), dropout=0.5))
