"""Two mistakes in one function: `gradkata grade` names both.

Real code often holds two bugs at once (an out-of-place clamp *and* no check for
None grads); no single catalogued mutant matches it, so the diagnosis must find
the pair. Graded through the real worker, as a submitted file is.
"""

from __future__ import annotations

import pytest

from gradkata.diagnose import same_mistake
from gradkata.katas import get
from gradkata.runner import grade_sources
from gradkata.settings import GradingSettings

pytestmark = pytest.mark.slow

TWO = {
    # The clamped copy is dropped, and a None grad makes it raise.
    ("clip_grad_value", "out-of-place-discarded", "none-not-skipped"): """
import torch

def clip_grad_value(parameters, clip_value):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    for p in parameters:
        torch.clamp(p.grad, -clip_value, clip_value)
""",
    # Only the upper bound, and no check for None grads.
    ("clip_grad_value", "upper-bound-only", "none-not-skipped"): """
import torch

def clip_grad_value(parameters, clip_value):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    for p in parameters:
        p.grad.clamp_(max=clip_value)
""",
    # ord=2 on each gradient (spectral for a matrix), and a lone tensor iterated row by row.
    ("clip_grad_norm", "spectral-norm", "tensor-iterated"): """
import torch

def clip_grad_norm(parameters, max_norm):
    parameters = [p for p in parameters if p.grad is not None]
    if not parameters:
        return torch.tensor(0.)
    total = torch.linalg.norm(torch.stack([torch.linalg.norm(p.grad, 2) for p in parameters]), 2)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for p in parameters:
        p.grad.mul_(coef)
    return total
""",
    # filter(lambda p: p.grad, ...), and a lone tensor iterated row by row.
    ("clip_grad_norm", "truthy-grad-filter", "tensor-iterated"): """
import torch

def clip_grad_norm(parameters, max_norm):
    parameters = list(filter(lambda p: p.grad, parameters))
    total = 0.0
    for p in parameters:
        total += p.grad.norm(2).item() ** 2
    total = total ** 0.5
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for p in parameters:
            p.grad.mul_(coef)
    return total
""",
}


@pytest.fixture
def zygote(shared_zygote):
    """The session's zygote (tests/conftest.py): these tests only grade through it."""
    return shared_zygote


@pytest.mark.parametrize("key", sorted(TWO), ids=lambda k: "+".join(k[1:]))
def test_a_function_with_two_catalogued_mistakes_gets_both_named(zygote, key):
    slug, first, second = key
    kata = get(slug)
    [result] = grade_sources(zygote, [kata], {slug: TWO[key].encode()}, GradingSettings(seed=5, examples=10))
    named = [d.mistake for d in result.diagnoses if not d.advice]
    assert result.score < result.max_score
    for expected in (first, second):
        assert any(same_mistake(kata, n, f"{slug}/{expected}") for n in named), named
    assert len(named) == 2, named
