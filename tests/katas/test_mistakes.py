"""The mistake catalogue and the diagnosis engine.

Parametrized over the whole catalogue (gradkata.mistakes.everything()), so the
mistakes of katas added later are covered automatically.
"""

from __future__ import annotations

import ast
import json

import numpy as np
import pytest

from gradkata.diagnose import (diagnose_functions, forbidden_references, host_sync_in_loop, same, same_mistake,
                               simplify)
from gradkata.sweep import run_and_diagnose
from gradkata.katas import get
from gradkata.mistakes import everything, listing
from gradkata.results import Status

CATALOGUE = [(slug, m) for slug, mistakes in everything().items() for m in mistakes]
IDS = [m.id for _, m in CATALOGUE]


def test_every_core_kata_has_its_catalogue():
    sizes = {slug: len(ms) for slug, ms in everything().items()}
    assert sizes["clip_grad_norm"] >= 17 and sizes["clip_grad_value"] >= 7
    assert sizes["clip_by_norm"] + sizes["clip_by_value"] >= 4 and sizes["train_step_with_clipping"] >= 8


@pytest.mark.parametrize("slug", sorted(everything()))
def test_every_kata_names_at_least_three_mistakes(slug):
    assert len(everything()[slug]) >= 3, f"{slug}: catalogue at least three usual mistakes (grader/katas/{slug}/mistakes.py)"


@pytest.mark.parametrize("slug,mistake", CATALOGUE, ids=IDS)
def test_mistake_is_well_formed(slug, mistake):
    kata = get(slug)
    assert mistake.kata == slug and mistake.name and " " not in mistake.name
    assert set(mistake.mutant) == set(kata.functions)
    assert all(len(part) > 10 for part in (mistake.what, mistake.symptom, mistake.why, mistake.fix))


def test_ids_are_unique():
    assert len(IDS) == len(set(IDS))


@pytest.mark.slow
@pytest.mark.parametrize("slug,mistake", CATALOGUE, ids=IDS)
def test_mutant_is_diagnosed_as_itself_from_the_probes(slug, mistake):
    kata = get(slug)
    from gradkata.mistakes import probes

    if not probes(kata):
        pytest.skip("this kata has no probe battery; the slow suite test covers it")
    named = [m.id for m in diagnose_functions(kata, mistake.mutant)]
    assert named and all(same_mistake(kata, n, mistake.id) for n in named), named


@pytest.mark.slow
@pytest.mark.parametrize("slug,mistake", CATALOGUE, ids=IDS)
def test_mutant_fails_the_suite_and_is_named(slug, mistake):
    checks, named = run_and_diagnose(get(slug), mistake.mutant)
    assert any(c.status is not Status.PASSED for c in checks), "the hidden suite does not catch this mutant"
    ids = [m.id for m in named]
    assert ids and same_mistake(get(slug), ids[0], mistake.id), ids


@pytest.mark.parametrize("slug", sorted(everything()))
def test_reference_gets_no_diagnosis(slug):
    kata = get(slug)
    assert diagnose_functions(kata, kata.reference()) == []


# --- correct but unusual variants ------------------------------------------------

def _float_return(parameters, max_norm):
    import math

    import torch

    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads))
    for g in grads:
        g.mul_(min(1.0, max_norm / (total + 1e-6)))
    return total


def _cat_flatten(parameters, max_norm):
    import torch

    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.cat([g.double().flatten() for g in grads]).norm()
    for g in grads:
        g.mul_(torch.clamp(max_norm / (total + 1e-6), max=1.0).to(g.dtype))
    return total.to(grads[0].dtype)


def _foreach(parameters, max_norm):
    import torch

    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    torch._foreach_mul_(grads, torch.clamp(max_norm / (total + 1e-6), max=1.0))
    return total


def _python_loop(parameters, max_norm):
    import torch

    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    squares, grads = 0.0, []
    for p in params:
        if p.grad is not None:
            grads.append(p.grad)
            squares += float((p.grad.double() ** 2).sum())
    total = squares ** 0.5
    if total > max_norm:
        for g in grads:
            g.mul_(max_norm / (total + 1e-6))
    return total


def _value_returns_list(parameters, clip_value):
    import torch

    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    for p in params:
        if p.grad is not None:
            p.grad.copy_(torch.clamp(p.grad, -clip_value, clip_value))
    return params


def _train_model_zero_grad(model, optimizer, loss, max_norm=1.0):
    import torch

    model.zero_grad(set_to_none=True)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(list(model.parameters()), max_norm)
    optimizer.step()
    return float(norm)


VARIANTS = [("clip_grad_norm", _float_return), ("clip_grad_norm", _cat_flatten), ("clip_grad_norm", _foreach),
            ("clip_grad_norm", _python_loop), ("clip_grad_value", _value_returns_list),
            ("train_step_with_clipping", _train_model_zero_grad)]


# Correct in the interview tier, but a NaN norm leaves their gradients as they are
# (min(1.0, nan) is 1.0; nan > max_norm is False): the parity tier names exactly that.
PARITY_ONLY = {_float_return: ["clip_grad_norm/nan-slips-past-guard"],
               _python_loop: ["clip_grad_norm/nan-slips-past-guard"]}


@pytest.mark.parametrize("slug,fn", VARIANTS, ids=lambda x: getattr(x, "__name__", x))
def test_correct_variants_get_no_diagnosis(slug, fn):
    kata = get(slug)
    named = [m.id for m in diagnose_functions(kata, {kata.functions[0]: fn})]
    assert named == PARITY_ONLY.get(fn, [])


# --- comparisons and static checks -------------------------------------------------

def test_simplify_makes_a_float_and_a_zero_d_tensor_equal():
    as_tensor = {"type": "tensor", "dtype": "float32", "device": "cpu", "requires_grad": False,
                 "value": np.array(13.0, dtype=np.float32)}
    assert same(simplify({"returned": as_tensor}), simplify({"returned": {"type": "float", "value": 13.0}}))
    assert not same(simplify({"returned": as_tensor}), simplify({"returned": {"type": "float", "value": 12.0}}))


def test_same_compares_nan_inf_and_structure():
    assert same([np.array([np.nan, np.inf])], [np.array([np.nan, np.inf])])
    assert not same([np.array([np.nan, np.inf])], [np.array([np.nan, -np.inf])])
    assert not same([np.array([1.0])], [np.array([1.0]), None])
    assert not same({"a": 1.0}, {"b": 1.0})


FORBID = get("clip_grad_norm").forbid
OWN = get("clip_grad_norm").functions


@pytest.mark.parametrize("code", [
    "import torch\ndef clip_grad_norm(p, m):\n    return torch.nn.utils.clip_grad_norm_(p, m)\n",
    "from torch.nn.utils import clip_grad_norm_\n",
    "from torch.nn.utils.clip_grad import clip_grad_norm_ as c\n",
    "import torch\ndef clip_grad_norm(p, m):\n    return getattr(torch.nn.utils, 'get_total_norm')(p)\n",
    "import torch.nn.utils as u\ndef clip_grad_norm(p, m):\n    return u.clip_grad_norm(p, m)\n",
    "import torch\nf = torch.nn.utils.clip_grads_with_norm_\n",
])
def test_forbidden_references_are_found(code):
    assert forbidden_references(ast.parse(code), FORBID, OWN)


@pytest.mark.parametrize("code", [
    "def clip_grad_norm(p, m):\n    '''Like clip_grad_norm_.'''\n    return clip_grad_norm(p, m)\n",
    "__all__ = ['clip_grad_norm']\ndef clip_grad_norm(p, m):\n    pass\n",
    "import torch\ndef clip_grad_norm(p, m):\n    pass\nif __name__ == '__main__':\n"
    "    torch.nn.utils.clip_grad_norm_([], 1.0)\n",
])
def test_own_names_and_main_blocks_are_not_delegation(code):
    assert forbidden_references(ast.parse(code), FORBID, OWN) == []


def test_host_sync_advice_is_static():
    assert host_sync_in_loop(ast.parse("for g in grads:\n    n = g.norm().item()\n"))
    assert not host_sync_in_loop(ast.parse("n = torch.stack(norms).norm().item()\n"))


def test_clip_after_step_static_check():
    from gradkata.katas.train_step_with_clipping.mistakes import clips_after_step

    after = "def f(m, o, l):\n    l.backward()\n    o.step()\n    torch.nn.utils.clip_grad_norm_(m.parameters(), 1)\n"
    before = "def f(m, o, l):\n    l.backward()\n    torch.nn.utils.clip_grad_norm_(m.parameters(), 1)\n    o.step()\n"
    assert clips_after_step(ast.parse(after)) and not clips_after_step(ast.parse(before))


def test_listing_names_every_mistake():
    text = listing()
    assert all(i in text for i in IDS)
    json.dumps(text)
