"""One omission, one deduction: a submission that leaves out exactly one parity
behaviour loses exactly that behaviour's checks, and the same ones under every seed.

Each omission is the kata's reference with one branch taken out (trusted code,
run in-process through the hidden suite as the mutants are).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gradkata.katas import get
from gradkata.results import Status
from gradkata.runner import check_functions
from gradkata.settings import GradingSettings

SEEDS = (1, 2, 3, 4, 5)


def _norm_without_lone_tensor(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]  # no `isinstance(parameters, Tensor)` branch
    if not grads:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach(), 2.0) for g in grads]), 2.0)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.detach().mul_(coef.to(g.dtype))
    return total


def _norm_with_a_python_guard(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach(), 2.0) for g in grads]), 2.0)
    if total > max_norm:  # a nan norm is never > max_norm: nan gradients are left as they are
        for g in grads:
            g.detach().mul_((max_norm / (total + 1e-6)).to(g.dtype))
    return total


def _value_without_lone_tensor(parameters, clip_value):
    for p in parameters:  # no `isinstance(parameters, Tensor)` branch
        if p.grad is not None:
            p.grad.detach().clamp_(-clip_value, clip_value)


def _value_float32_bound_only(parameters, clip_value):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    for p in parameters:
        if p.grad is not None and p.grad.dtype in (torch.float32, torch.float64):
            p.grad.detach().clamp_(-clip_value, clip_value)  # half-precision grads are skipped


def _by_norm_matrix_norm(g, tau):
    norm = float(np.linalg.norm(g, 2)) if np.ndim(g) <= 2 else math.nan  # ord=2: spectral for a matrix
    clipped = g / max(1.0, norm / tau)
    return clipped, norm, float(np.linalg.norm(clipped.ravel()))


def _accumulate_in_eval_mode(model, optimizer, criterion, micro_batches, max_norm=1.0):
    from gradkata.katas.train_step_accumulate.reference import train_step_accumulate

    model.eval()  # e.g. "to keep batch-norm statistics still while accumulating": dropout is off too
    try:
        return train_step_accumulate(model, optimizer, criterion, micro_batches, max_norm)
    finally:
        model.train()


def _clip_every_parameter(model, max_norm):
    """Clipping by hand over every parameter, as if each had a gradient."""
    total = torch.sqrt(sum(p.grad.detach().pow(2).sum() for p in model.parameters()))
    for p in model.parameters():
        p.grad.detach().mul_(torch.clamp(max_norm / (total + 1e-6), max=1.0))
    return total


def _step_every_parameter(model, optimizer, loss, max_norm=1.0):
    optimizer.zero_grad()
    loss.backward()
    total = _clip_every_parameter(model, max_norm)
    optimizer.step()
    return total


def _amp_every_parameter(model, optimizer, scaler, loss, max_norm=1.0):
    optimizer.zero_grad()
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    total = _clip_every_parameter(model, max_norm)
    scaler.step(optimizer)
    scaler.update()
    return total


def _catalogued(slug: str, mistake: str) -> dict:
    from gradkata.mistakes import catalogue

    [m] = [m for m in catalogue(get(slug)) if m.id == f"{slug}/{mistake}"]
    return m.mutant


OMISSIONS = [
    ("clip_grad_norm", "no-lone-tensor", {"clip_grad_norm": _norm_without_lone_tensor}, {"test_single_tensor"}),
    ("clip_grad_norm", "python-guard", {"clip_grad_norm": _norm_with_a_python_guard},
     {"test_non_finite_grads_spread_as_in_torch"}),
    ("clip_grad_value", "no-lone-tensor", {"clip_grad_value": _value_without_lone_tensor}, {"test_single_tensor"}),
    ("clip_grad_value", "skips-half-precision", {"clip_grad_value": _value_float32_bound_only},
     {"test_half_precision", "test_bfloat16_grads"}),
    ("clip_by_norm", "matrix-norm", {"clip_by_norm": _by_norm_matrix_norm},
     {"test_matrix_uses_the_norm_of_all_elements"}),
    # Frozen/unused parameters and dropout in the training katas: each a parity check of its own.
    ("find_clipping_threshold", "none-grad-not-skipped", "catalogue", {"test_frozen_and_unused_parameters"}),
    ("find_clipping_threshold", "no-train-mode", "catalogue", {"test_dropout_model_is_measured_in_train_mode"}),
    ("train_step_accumulate", "none-grad-not-skipped", "catalogue", {"test_frozen_and_unused_parameters"}),
    ("train_step_accumulate", "eval-mode", {"train_step_accumulate": _accumulate_in_eval_mode},
     {"test_dropout_model"}),
    ("train_step_with_clipping", "every-parameter", {"train_step_with_clipping": _step_every_parameter},
     {"test_frozen_parameters"}),
    ("train_step_amp", "every-parameter", {"train_step_amp": _amp_every_parameter},
     {"test_frozen_and_unused_parameters"}),
]


@pytest.mark.slow
@pytest.mark.parametrize("slug,name,funcs,lost", OMISSIONS, ids=[f"{s}-{n}" for s, n, _, _ in OMISSIONS])
def test_one_omission_costs_only_its_own_checks_under_every_seed(slug, name, funcs, lost):
    kata = get(slug)
    if funcs == "catalogue":  # the catalogued mutant of that name
        funcs = _catalogued(slug, name)
    outcomes = []
    for seed in SEEDS:
        checks = check_functions(kata, funcs, GradingSettings(seed=seed, examples=30))
        failing = {c.name for c in checks if c.status is not Status.PASSED}
        assert failing == lost, f"seed {seed}: {sorted(failing)}"
        assert all(c.tier == "parity" for c in checks if c.name in lost), "an omission of the parity contract"
        outcomes.append(sorted((c.name, c.score) for c in checks))
    assert all(o == outcomes[0] for o in outcomes), "the score moved with the seed"


# --- a wrong return value costs the return-value checks, never the gradient (or training) ones ---

def _returning(slug: str, value):
    """The kata's reference with its return value replaced by ``value`` (None: returns nothing)."""
    funcs = dict(get(slug).reference())
    (name, fn), = funcs.items()
    if isinstance(fn, type):  # a clipper class: its step() returns the value instead
        base = fn

        class Wrong(base):  # type: ignore[misc, valid-type]
            def step(self, *args, **kwargs):
                base.step(self, *args, **kwargs)
                return value

        return {name: Wrong}

    def wrong(*args, **kwargs):
        fn(*args, **kwargs)
        return value

    return {name: wrong}


# slug -> the checks a reference that clips right but returns None loses (its return-value checks).
RETURN_CHECKS = {
    "clip_grad_norm": {"test_returns_the_norm_before_clipping", "test_empty_input_returns_zero[list]",
                       "test_empty_input_returns_zero[generator]", "test_all_grads_none_returns_zero"},
    "clip_grad_norm_distributed": {"test_returns_the_global_norm_on_every_rank"},
    "train_step_with_clipping": {"test_returns_the_norm_before_clipping"},
    "train_step_accumulate": {"test_returns_the_norm_before_clipping"},
    "train_step_amp": {"test_returns_the_unscaled_norm_before_clipping"},
    "zclip": {"test_returns_the_norm_used"},
    # torch's clip_grad_value_ returns None and AGC's return is not part of its contract: nothing is lost.
    "clip_grad_value": set(),
    "adaptive_grad_clip": set(),
}


@pytest.mark.slow
@pytest.mark.parametrize("slug", sorted(RETURN_CHECKS))
@pytest.mark.parametrize("value", [None, "not a norm"], ids=["none", "junk"])
def test_a_wrong_return_value_keeps_the_gradient_points_under_every_seed(slug, value):
    kata = get(slug)
    outcomes = []
    for seed in SEEDS:
        checks = check_functions(kata, _returning(slug, value), GradingSettings(seed=seed, examples=10))
        failing = {c.name for c in checks if c.status is not Status.PASSED}
        assert failing == RETURN_CHECKS[slug], f"seed {seed}: {sorted(failing)}"
        assert all("return" in name for name in failing), "only checks about the return value"
        outcomes.append(sorted((c.name, c.score) for c in checks))
    assert all(o == outcomes[0] for o in outcomes), "the score moved with the seed"


def _nothing(*args, **kwargs):
    return None


class _NothingClipper:
    def __init__(self, *args, **kwargs):
        pass

    def step(self, *args, **kwargs):
        return None


@pytest.mark.slow
@pytest.mark.parametrize("slug", sorted(RETURN_CHECKS) + ["find_clipping_threshold"])
def test_a_function_that_does_nothing_earns_nothing(slug):
    """With gradient and return value judged apart, a check whose scenario needs no change (small
    gradients, a norm at the threshold) must hold a second scenario that does: doing nothing earns 0."""
    kata = get(slug)
    (name, fn), = kata.reference().items()
    for seed in SEEDS[:2]:
        checks = check_functions(kata, {name: _NothingClipper if isinstance(fn, type) else _nothing},
                                 GradingSettings(seed=seed, examples=10))
        earned = [c.name for c in checks if c.score > 0]
        assert earned == [], f"seed {seed}: {earned}"
