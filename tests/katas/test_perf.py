"""The performance tier: counts made under a TorchDispatchMode, turned into figures and advice."""

from __future__ import annotations

import pytest
import torch

from gradkata.judge import observe
from gradkata.katas import get
from gradkata.perf import PROFILE, formula, note, summary


def _loop_item(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total = sum(g.norm().item() ** 2 for g in grads) ** 0.5
    for g in grads:
        g.mul_(min(1.0, max_norm / (total + 1e-6)))
    return total


def _cat(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.cat([g.flatten() for g in grads]).norm()
    torch._foreach_mul_(grads, torch.clamp(max_norm / (total + 1e-6), max=1.0))
    return total


def _figures(fn) -> dict:
    return summary(observe(get("clip_grad_norm"), {"clip_grad_norm": fn},
                           {"profile": dict(PROFILE), "max_norm": 1.0}))


@pytest.mark.parametrize("at_k,at_2k,k,text", [(31, 55, 6, "4k+7"), (8, 8, 6, "8"), (6, 12, 6, "k"),
                                               (36, 72, 6, "6k"), (12, 22, 6, "12 at k=6, 22 at 2k"),
                                               (10, 14, 6, "10 at k=6, 14 at 2k"), (4, 10, 6, "k-2")])
def test_formula_reads_the_growth_off_k_and_2k(at_k, at_2k, k, text):
    assert formula(at_k, at_2k, k) == text


def test_torch_itself_syncs_nothing_and_does_not_grow():
    s = _figures(torch.nn.utils.clip_grad_norm_)
    assert s["syncs"] == "0" and "k" not in s["ops"] and s["bytes"] == "0.0x", s


def test_an_item_per_tensor_is_k_syncs_and_k_ops():
    s = _figures(_loop_item)
    assert s["syncs"] == "k" and "k" in s["ops"], s


def test_a_cat_copy_costs_the_gradients_bytes():
    s = _figures(_cat)
    assert s["syncs"] == "0" and float(s["bytes"][:-1]) >= 1.0, s


def test_counts_are_deterministic():
    assert _figures(_loop_item) == _figures(_loop_item)


@pytest.mark.parametrize("obs", [None, {}, {"k": 6, "at_k": {"syncs": True}, "at_2k": {}},
                                 {"k": 0, "at_k": {}, "at_2k": {}},
                                 {"k": 6, "at_k": {"syncs": -1, "ops": 1, "bytes": 0, "grad_bytes": 8},
                                  "at_2k": {"syncs": 0, "ops": 1, "bytes": 0, "grad_bytes": 8}},
                                 {"k": 6, "at_k": {"syncs": 0, "ops": 1, "bytes": 0, "grad_bytes": 0},
                                  "at_2k": {"syncs": 0, "ops": 1, "bytes": 0, "grad_bytes": 0}}])
def test_counts_that_are_not_plain_counts_are_not_shown(obs):
    assert summary(obs) is None
    assert "your code: could not be measured" in note(obs, None, None)


def test_the_note_sets_yours_beside_pytorch_with_advice():
    kata, scenario = get("clip_grad_norm"), {"profile": dict(PROFILE), "max_norm": 1.0}
    mine = observe(kata, {"clip_grad_norm": _loop_item}, scenario)
    torch_ = observe(kata, kata.oracle(), scenario)
    text = note(mine, torch_, torch_)
    assert "your code: k host syncs" in text and "PyTorch: 0 host syncs, " in text
    assert "host sync" in text.splitlines()[-2] and "_foreach" in text.splitlines()[-1]
    assert "Each host sync" not in note(torch_, torch_, torch_)
