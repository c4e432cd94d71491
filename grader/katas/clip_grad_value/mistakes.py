"""The usual mistakes in clip_grad_value: mutants, feedback and a probe battery."""

from __future__ import annotations

import ast

import numpy as np
import torch

from gradkata.mistakes import grad_truth_test, maker
from gradkata.katas.clip_grad_value.driver import Scenario
from gradkata.worker.shapes import Param

SLUG = "clip_grad_value"
# torch returns None and no caller uses the result: what a mutant returns is no evidence.
IGNORE_KEYS = ("returned",)


def _params(parameters):
    if isinstance(parameters, torch.Tensor):
        return [parameters]
    return list(parameters)


def upper_only(parameters, clip_value):
    for p in _params(parameters):
        if p.grad is not None:
            p.grad.clamp_(max=clip_value)


def discarded(parameters, clip_value):
    for p in _params(parameters):
        if p.grad is not None:
            torch.clamp(p.grad, -clip_value, clip_value)  # the result is thrown away


def none_not_skipped(parameters, clip_value):
    for p in _params(parameters):
        p.grad.clamp_(-clip_value, clip_value)


def clamped_weights(parameters, clip_value):
    with torch.no_grad():
        for p in _params(parameters):
            if p.grad is not None:
                p.clamp_(-clip_value, clip_value)


def lower_bound_zero(parameters, clip_value):
    for p in _params(parameters):
        if p.grad is not None:
            p.grad.clamp_(0, clip_value)


def rescaled_by_max(parameters, clip_value):
    for p in _params(parameters):
        if p.grad is not None:
            peak = p.grad.abs().max()
            if peak > clip_value:
                p.grad.mul_(clip_value / peak)


def bounds_swapped(parameters, clip_value):
    for p in _params(parameters):
        if p.grad is not None:
            p.grad.clamp_(min=clip_value, max=-clip_value)


def tensor_iterated(parameters, clip_value):
    for p in parameters:  # a lone tensor iterates its rows, which have no .grad
        if p.grad is not None:
            p.grad.clamp_(-clip_value, clip_value)


def generator_exhausted(parameters, clip_value):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    if not any(p.grad is not None for p in parameters):  # consumes a generator
        return
    for p in parameters:
        if p.grad is not None:
            p.grad.clamp_(-clip_value, clip_value)


def truthy_grad_filter(parameters, clip_value):
    # bool(p.grad) raises for a gradient of more than one element.
    for p in filter(lambda p: p.grad, _params(parameters)):
        p.grad.clamp_(-clip_value, clip_value)


def _result_dropped(tree: ast.Module) -> bool:
    """An out-of-place clamp as a bare statement: ``torch.clamp(g, ...)`` or ``g.clamp(...)``, result unused."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("clamp", "clip", "clamp_min", "clamp_max"):
                return True
    return False


def _weights_clamped(tree: ast.Module) -> bool:
    """An in-place clamp of something that is not a gradient (``p.clamp_``, ``p.data.clamp_``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("clamp_", "clip_") and "grad" not in ast.unparse(node.func.value):
            return True
    return False


_m = maker(SLUG, "clip_grad_value")


MISTAKES = [
    _m("upper-bound-only", "Only the upper bound was applied", upper_only,
       "Your code clamped gradients from above (max=clip_value) but not from below.",
       "Large negative entries pass unchanged: -10 stays -10 when clip_value is 1.",
       "Exploding gradients are as likely to be negative as positive; half of them go straight to the "
       "optimiser.",
       "Clamp both sides: p.grad.clamp_(-clip_value, clip_value)."),
    _m("out-of-place-discarded", "The clamped copy was thrown away", discarded,
       "Your code called an out-of-place clamp (torch.clamp(g, ...), g.clamp(...)) and did not keep the result.",
       "Every p.grad is unchanged after the call.",
       "The optimiser reads p.grad, so it uses the unclipped gradients.",
       "Use the in-place form, p.grad.clamp_(-clip_value, clip_value), or assign the result back to p.grad.",
       static=_result_dropped),
    _m("none-not-skipped", "Parameters without a gradient were not skipped", none_not_skipped,
       "Your code used p.grad without checking it; frozen or unused parameters have p.grad = None.",
       "The call raises AttributeError as soon as one parameter has no gradient.",
       "Models with frozen layers crash the training loop.",
       "Skip them: `if p.grad is not None:` before clamping."),
    _m("clamped-weights", "The weights were clamped instead of the gradients", clamped_weights,
       "Your code clamped the parameters themselves (p or p.data).",
       "The gradients are unchanged and the weights are cut to [-clip_value, clip_value].",
       "Clamping weights erases what the model has learnt, and the update is still unclipped.",
       "Clamp p.grad, not p.",
       static=_weights_clamped),
    _m("lower-bound-zero", "The lower bound was 0 instead of -clip_value", lower_bound_zero,
       "Your code clamped to [0, clip_value].",
       "Every negative gradient entry becomes 0.",
       "Negative gradients carry half of the learning signal; the weights can then only decrease.",
       "The interval is symmetric: clamp_(-clip_value, clip_value)."),
    _m("rescaled-by-max", "Gradients rescaled by their largest entry", rescaled_by_max,
       "Your code divided each gradient by its largest absolute entry (a max-norm rescale) instead of clamping "
       "each entry.",
       "Entries that were already inside [-clip_value, clip_value] shrink too, so small components are lost.",
       "Value clipping caps only the outliers; rescaling by the maximum shrinks everything whenever one entry "
       "is large, which is norm-style clipping with the wrong norm.",
       "Clamp each entry on its own: p.grad.clamp_(-clip_value, clip_value)."),
    _m("bounds-swapped", "min and max were swapped", bounds_swapped,
       "Your code clamped with min=clip_value and max=-clip_value.",
       "Every entry ends up equal to -clip_value (clamp applies max last).",
       "All gradients point the same way regardless of the loss: training goes nowhere.",
       "clamp_(min=-clip_value, max=clip_value)."),
    _m("truthy-grad-filter", "Parameters filtered on the truth value of p.grad", truthy_grad_filter,
       "Your code filtered with `filter(lambda p: p.grad, ...)` (or `if p.grad:`), which asks for the truth "
       "value of a tensor instead of testing `p.grad is not None`.",
       "Any gradient with more than one element raises \"Boolean value of Tensor with more than one value is "
       "ambiguous\"; a one-element gradient equal to 0 is skipped (harmless here, but luck).",
       "A missing gradient is None, not a false tensor: the test must be about None.",
       "Filter with `lambda p: p.grad is not None`.", static=grad_truth_test),
    _m("tensor-iterated", "A single tensor was iterated row by row", tensor_iterated,
       "Your code looped over `parameters` without wrapping a lone tensor in a list first.",
       "Iterating a tensor gives its rows, which have no .grad: nothing is clamped (or the call raises for a "
       "0-d tensor).",
       "clip_grad_value_(model.weight, 1.0) would silently do nothing.",
       "if isinstance(parameters, torch.Tensor): parameters = [parameters]."),
    _m("generator-exhausted", "The parameters were iterated twice", generator_exhausted,
       "Your code looped over `parameters` twice; a generator such as model.parameters() is empty the second "
       "time.",
       "With a list everything works, with a generator no gradient is clamped.",
       "Training loops pass model.parameters(), so clipping silently never happens.",
       "Turn the input into a list once and loop over the list."),
]


def _probe(grads, clip_value, container="list", dtype="float64", order=None) -> Scenario:
    params: list[Param] = [{"value": np.full(np.shape(g) if g is not None else (2,), 0.5, dtype=dtype),
               "grad": None if g is None else np.asarray(g, dtype=dtype)} for g in grads]
    s: Scenario = {"params": params, "container": container, "clip_value": clip_value}
    if order is not None:
        s["order"] = order
    return s


PROBES = [
    _probe([[0.9, -0.2, 0.7, -1.4], [0.3]], 0.5),
    _probe([[3.0, -4.0], [12.0, -0.1]], 2.0),
    _probe([[10.0, 0.1], [-0.3, 0.2]], 1.0),
    _probe([[-5.0, -0.5], [0.25]], 1.0),
    _probe([[0.1, -0.2]], 1.0),
    _probe([[3.0, -4.0], None, [12.0]], 2.0),
    _probe([[3.0, -4.0], [12.0], [1.0, -2.0]], 1.5, container="generator"),
    _probe([[6.0, -8.0, 0.5]], 5.0, container="single"),
    _probe([[[6.0, -8.0], [0.5, 0.0]]], 5.0, container="single"),
    _probe([[2.0, -3.0]], 0.0),
    _probe([[3.0], None, [-0.25]], 1.0),
]
