"""Hidden suite: clip_grad_norm_distributed on 1, 2 and 4 ranks against the unsharded clip_grad_norm_."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradkata.suitekit import Mismatch, expect_arrays, expect_number, fmt_array, fmt_num, points, sanity, visible
from gradkata.katas.clip_grad_norm_distributed.driver import Rank, RankParam, Observation, Scenario

KATA = "clip_grad_norm_distributed"
NORM_WHAT = "the global norm of the whole model before clipping, the same on every rank"


def scenario(shards, replicated=(), max_norm=1.0, norm_type=2.0, dtype="float32", container="list") -> Scenario:
    """``shards[r]``: rank r's sharded gradients (None: a parameter without one; [] : a rank
    holding no sharded parameter); ``replicated``: gradients every rank holds, marked
    ``p.replicated = True``, after its shards."""
    cast = None
    if dtype == "bfloat16":  # NumPy has no bfloat16: float32 on the wire, cast by the driver
        cast, dtype = dtype, "float32"
    ranks: list[Rank] = []
    for mine in shards:
        params: list[RankParam] = [{"value": np.ones(np.shape(g) if g is not None else (2,), dtype=dtype),
                   "grad": None if g is None else np.asarray(g, dtype=dtype)} for g in mine]
        params += [{"value": np.ones(np.shape(g), dtype=dtype), "grad": np.asarray(g, dtype=dtype),
                    "replicated": True} for g in replicated]
        ranks.append({"params": params, "container": container})
    s: Scenario = {"world_size": len(shards), "max_norm": float(max_norm),
         "norm_type": "inf" if math.isinf(norm_type) else float(norm_type), "ranks": ranks}
    if cast:
        s["cast"] = cast
    return s


def describe_call(s: Scenario) -> str:
    parts = []
    for r, rank in enumerate(s["ranks"]):
        shards = [fmt_array(p["grad"]) for p in rank["params"] if not p.get("replicated")]
        parts.append(f"rank {r}: [{', '.join(shards)}]" if shards else f"rank {r}: no sharded parameter")
    rep = [fmt_array(p["grad"]) for p in s["ranks"][0]["params"] if p.get("replicated")] if s["ranks"] else []
    extra = f"; replicated on every rank: [{', '.join(rep)}]" if rep else ""
    norm = "" if s["norm_type"] == 2.0 else f", norm_type={'inf' if s['norm_type'] == 'inf' else s['norm_type']}"
    return (f"clip_grad_norm_distributed on {s['world_size']} rank(s) with sharded grads ({'; '.join(parts)}"
            f"{extra}), max_norm={fmt_num(s['max_norm'])}{norm}")


def _dtype(s: Scenario) -> str:
    if s.get("cast"):
        return str(s["cast"])
    for rank in s["ranks"]:
        for p in rank["params"]:
            if p["grad"] is not None:
                return np.asarray(p["grad"]).dtype.name
    return "float32"


def check(judge, s: Scenario, judged: str = "grads") -> None:
    """``judged``: "grads" compares every rank's gradients, "returned" the norm every rank returns, and
    only that: a wrong return value costs the return-value check alone. A deadlock fails either."""
    call = describe_call(s)
    want, oracle = judge.reference(s), judge.oracle(s)
    sanity("deadlock" not in want and "deadlock" not in oracle, "grader bug: the reference deadlocked")
    got: Observation = judge.candidate(s)
    dtype = _dtype(s)
    if "deadlock" in got:
        stuck = got["deadlock"]
        raise Mismatch(
            f"Called {call}. Rank(s) {stuck.get('returned')} returned while rank(s) {stuck.get('waiting')} waited "
            "in a collective the others never joined: a deadlock (in real training every rank would hang). Every rank "
            "must call the same collectives, even one without gradients: its share of the norm is 0.")
    world = s["world_size"]
    if not isinstance(got.get("returned"), list) or len(got["returned"]) != world:
        raise Mismatch(f"Called {call}. Expected a result from each of the {world} ranks.")
    for r in range(world):
        on_rank = f"{call} (on rank {r})"
        if judged == "returned":
            expect_number(on_rank, got["returned"][r], float(np.asarray(want["returned"][r]["value"])),
                          float(np.asarray(oracle["returned"][r]["value"])), dtype, what=NORM_WHAT)
        else:
            expect_arrays(on_rank, "grad", got["grads"][r], want["grads"][r], oracle["grads"][r])


# --- interview: the question as posed (L2, sharded + replicated, ranks without grads) ---

@visible
@points(2)
def test_worked_example(judge):
    """Two ranks, shards [3, 4] and [12], max_norm 6.5: both return 13; grads become [1.5, 2] and [6]."""
    check(judge, scenario([[[3.0, 4.0]], [[12.0]]], max_norm=6.5))


@visible
@points(1)
def test_small_gradients_are_left_alone(judge):
    check(judge, scenario([[[0.3, 0.4]], [[1.2]]], max_norm=100.0))
    # A degenerate input alone earns nothing: code that ignores its input
    # (a do-nothing body) would pass it by construction.
    check(judge, scenario([[[0.3, 0.4]], [[1.2]]], max_norm=0.65))


@visible
@points(2)
def test_returns_the_global_norm_on_every_rank(judge):
    """The return value alone (the gradients have checks of their own): every rank returns the global
    norm before clipping, whether or not it clips. (Ranks without gradients have checks of their own.)"""
    check(judge, scenario([[[3.0, 4.0]], [[12.0]]], max_norm=6.5), judged="returned")
    check(judge, scenario([[[0.3, 0.4]], [[1.2]]], max_norm=100.0), judged="returned")
    check(judge, scenario([[[1.0, -2.0, 0.5]], [[3.0]], [[0.5, 0.5]], [[-1.0]]], replicated=[[0.5, -1.5]],
                          max_norm=2.0), judged="returned")


@points(1)
@pytest.mark.parametrize("world", [1, 2, 4])
def test_sharded_and_replicated_on_world_sizes(judge, world):
    shards = [[[1.0 + r, -2.0, 0.5 * r], [3.0 - r]] for r in range(world)]
    check(judge, scenario(shards, replicated=[[0.5, -1.5]], max_norm=2.0))


@points(2)
def test_replicated_parameters_count_once(judge):
    # The replicated gradient dominates: counted on each of 4 ranks it would double the norm.
    check(judge, scenario([[[0.1]], [[0.2]], [[0.1]], [[0.2]]], replicated=[[6.0, 8.0]], max_norm=5.0))


@points(2)
def test_rank_without_gradients_still_joins(judge):
    # Rank 2's only parameter has no gradient (frozen, or unused this step).
    check(judge, scenario([[[3.0, 4.0]], [[12.0]], [None], [[0.0, 1.0]]], max_norm=6.5))


@points(1)
def test_no_gradient_anywhere(judge):
    check(judge, scenario([[None], [None]], max_norm=1.0))
    # A degenerate input alone earns nothing: code that ignores its input passes it.
    check(judge, scenario([[None], [[3.0, 4.0]]], max_norm=1.0))


@st.composite
def sharded_models(draw, dtypes=("float32", "float64")) -> dict:
    """2 or 4 ranks, each with at least one gradient, and one or two replicated
    parameters: every draw can tell a rank-local or a replicated-counting mistake
    from the reference. (1 rank, ranks without gradients and models without
    replicated parameters have tests of their own, so a submission's score does
    not depend on the seed.)"""
    world = draw(st.sampled_from([2, 4]))
    dtype = draw(st.sampled_from(dtypes))
    values = st.floats(-10, 10, width=32, allow_subnormal=False).map(lambda x: 0.0 if abs(x) < 1e-3 else x)

    def grad():
        size = draw(st.integers(1, 5))
        return draw(st.lists(values, min_size=size, max_size=size))

    shards = []
    for _ in range(world):
        mine = [grad() if draw(st.integers(0, 4)) else None for _ in range(draw(st.integers(1, 3)))]
        shards.append(mine + [grad()] if all(g is None for g in mine) else mine)
    replicated = [grad() for _ in range(draw(st.integers(1, 2)))]
    return {"shards": shards, "replicated": replicated, "dtype": dtype,
            "ratio": draw(st.sampled_from([0.1, 0.5, 2.0]))}


def _norm(model: dict) -> float:
    grads = [g for mine in model["shards"] for g in mine if g is not None] + list(model["replicated"])
    return math.sqrt(sum(float(np.square(np.asarray(g, dtype=np.float64)).sum()) for g in grads))


@points(4)
@given(model=sharded_models())
def test_matches_unsharded_torch_on_generated_models(judge, model):
    norm = _norm(model)
    max_norm = model["ratio"] * norm if norm > 0 else 1.0
    check(judge, scenario(model["shards"], model["replicated"], max_norm=max_norm, dtype=model["dtype"]))


# --- parity: inf-norm, half precision, uneven shards, empty ranks ------------------------

@pytest.mark.tier("parity")
@points(2)
def test_inf_norm_takes_the_max_across_ranks(judge):
    check(judge, scenario([[[3.0, -4.0]], [[12.0]], [[-2.0]], [[5.0]]], replicated=[[1.0]], max_norm=6.0,
                          norm_type=math.inf))
    check(judge, scenario([[[0.5]], [[-0.25]]], replicated=[[-3.0]], max_norm=1.0, norm_type=math.inf))


@pytest.mark.tier("parity")
@points(1)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_accumulates_in_float32(judge, dtype):
    # The ranks' sums of squares, 250000 and 1440000, are past float16's 65504; the norm,
    # 1300, is not. The coefficient is 0.5, exact in every dtype.
    check(judge, scenario([[[300.0, 400.0]], [[1200.0]]], max_norm=650.0, dtype=dtype))


@pytest.mark.tier("parity")
@points(1)
def test_uneven_shards(judge):
    check(judge, scenario([[[1.0]], [[2.0, -2.0, 2.0, -2.0, 2.0, -2.0, 2.0]], [[0.5, 0.5, 0.5], [3.0]],
                           [[1.0, 1.0]]], replicated=[[0.25]], max_norm=3.0))


@pytest.mark.tier("parity")
@points(2)
def test_empty_ranks(judge):
    # Ranks 1 and 3 hold no parameter at all (more ranks than shards).
    check(judge, scenario([[[3.0, 4.0]], [], [[12.0]], []], max_norm=6.5))
    check(judge, scenario([[[3.0, 4.0]], [], [[12.0]], []], max_norm=6.5, container="generator"))
