"""The usual mistakes in train_step_with_clipping: mutants, feedback, static checks, probes."""

from __future__ import annotations

import ast

import numpy as np
import torch

from gradkata.mistakes import maker
from gradkata.katas.train_step_with_clipping.driver import Scenario

SLUG = "train_step_with_clipping"
# How gradients are cleared (optimizer.zero_grad, model.zero_grad, p.grad = None)
# is the student's business: judge what training saw, not the event log.
IGNORE_KEYS = ("events", "step_starts")

_clip = torch.nn.utils.clip_grad_norm_


def _norm(model) -> torch.Tensor:
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


def clip_after_step(model, optimizer, loss, max_norm=1.0):
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return _clip(model.parameters(), max_norm)  # too late: the step used the raw gradients


def clip_before_backward(model, optimizer, loss, max_norm=1.0):
    optimizer.zero_grad()
    total = _clip(model.parameters(), max_norm)  # nothing to clip yet
    loss.backward()
    optimizer.step()
    return total


def no_zero_grad(model, optimizer, loss, max_norm=1.0):
    loss.backward()  # adds to whatever the previous step left
    total = _clip(model.parameters(), max_norm)
    optimizer.step()
    return total


def zero_grad_after_backward(model, optimizer, loss, max_norm=1.0):
    loss.backward()
    optimizer.zero_grad()  # wipes the fresh gradients
    total = _clip(model.parameters(), max_norm)
    optimizer.step()
    return total


def ignores_max_norm(model, optimizer, loss, max_norm=1.0):
    optimizer.zero_grad()
    loss.backward()
    total = _clip(model.parameters(), 1.0)
    optimizer.step()
    return total


def value_clipping(model, optimizer, loss, max_norm=1.0):
    optimizer.zero_grad()
    loss.backward()
    total = _norm(model)
    torch.nn.utils.clip_grad_value_(model.parameters(), max_norm)
    optimizer.step()
    return total


def steps_twice(model, optimizer, loss, max_norm=1.0):
    optimizer.zero_grad()
    loss.backward()
    total = _clip(model.parameters(), max_norm)
    optimizer.step()
    optimizer.step()
    return total


def post_clip_norm(model, optimizer, loss, max_norm=1.0):
    optimizer.zero_grad()
    loss.backward()
    _clip(model.parameters(), max_norm)
    optimizer.step()
    return _norm(model)


def returns_loss(model, optimizer, loss, max_norm=1.0):
    optimizer.zero_grad()
    loss.backward()
    _clip(model.parameters(), max_norm)
    optimizer.step()
    return loss.item()


def per_parameter_clipping(model, optimizer, loss, max_norm=1.0):
    optimizer.zero_grad()
    loss.backward()
    total = _norm(model)
    for p in model.parameters():
        _clip(p, max_norm)
    optimizer.step()
    return total


def _calls(tree: ast.AST) -> list[tuple[tuple[int, int], str]]:
    """(position, name) of every call, where name is the called attribute or function."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            out.append(((node.lineno, node.col_offset), name))
    return out


def clips_after_step(tree: ast.Module) -> bool:
    """Some clipping call comes after the first ``.step()`` call in the source."""
    calls = sorted(_calls(tree))
    steps = [pos for pos, name in calls if name == "step"]
    return bool(steps) and any(pos > steps[0] and "clip" in name for pos, name in calls)


_m = maker(SLUG, "train_step_with_clipping")


MISTAKES = [
    _m("clip-after-step", "Clipped after optimizer.step()", clip_after_step,
       "Your step clipped the gradients after optimizer.step() (or never clipped them before it).",
       "The gradient norm seen by optimizer.step() is above max_norm and the weights move by the full, "
       "unclipped update; the returned norm can still look right.",
       "Clipping after the update changes nothing: the optimiser has already used the raw gradients, so an "
       "exploding gradient still wrecks the weights.",
       "Order: optimizer.zero_grad(), loss.backward(), clip_grad_norm_(model.parameters(), max_norm), "
       "optimizer.step().", static=clips_after_step),
    _m("clip-before-backward", "Clipped before loss.backward()", clip_before_backward,
       "Your step clipped before back-propagating, when the gradients were still empty.",
       "The returned norm is 0 and the update uses the unclipped gradients that backward() produced afterwards.",
       "Clipping has to act on this step's gradients, which exist only after loss.backward().",
       "Move the clipping call between loss.backward() and optimizer.step()."),
    _m("no-zero-grad", "Gradients were never cleared", no_zero_grad,
       "Your step did not clear the gradients before loss.backward().",
       "backward() adds to .grad, so each step's gradient includes every earlier one; the returned norm "
       "grows from call to call.",
       "Accumulated gradients point in stale directions and grow without bound, which is the very explosion "
       "clipping is meant to stop.",
       "Call optimizer.zero_grad() before loss.backward()."),
    _m("zero-grad-after-backward", "Gradients cleared between backward and step", zero_grad_after_backward,
       "Your step called zero_grad() after loss.backward() and before optimizer.step().",
       "The fresh gradients are wiped: the norm is 0 and optimizer.step() has nothing to apply.",
       "The model never learns from any batch (or drifts on momentum alone).",
       "Clear first: optimizer.zero_grad(), then loss.backward(), clip, optimizer.step()."),
    _m("ignores-max-norm", "max_norm was ignored", ignores_max_norm,
       "Your step clipped with a fixed threshold (1.0) instead of the max_norm argument.",
       "Calls with max_norm other than 1.0 are clipped at 1.0.",
       "The threshold is a tuned hyper-parameter; a hard-coded one makes tuning it impossible.",
       "Pass max_norm through: clip_grad_norm_(model.parameters(), max_norm)."),
    _m("value-clipping", "Clipped by value instead of by norm", value_clipping,
       "Your step used clip_grad_value_ (element-wise clamping) with max_norm as the bound.",
       "The gradient norm at optimizer.step() can still be far above max_norm, and the update changes "
       "direction.",
       "Value clipping bounds single entries, not the update's length, and bends its direction.",
       "Use torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)."),
    _m("steps-twice", "optimizer.step() called twice", steps_twice,
       "Your step called optimizer.step() twice.",
       "Each training step applies the update twice (with momentum or Adam, two different updates).",
       "The effective learning rate doubles, and the clipped step length is no longer what max_norm promises.",
       "Call optimizer.step() exactly once, after clipping."),
    _m("post-clip-norm", "Returned the norm after clipping", post_clip_norm,
       "Your step returned the gradient norm measured after clipping.",
       "The returned value never exceeds max_norm.",
       "The returned norm is what gets logged to detect exploding gradients; capped, it hides them.",
       "Return the value clip_grad_norm_ returns: the norm before clipping."),
    _m("returns-loss", "Returned the loss instead of the norm", returns_loss,
       "Your step returned the loss value.",
       "The caller gets the loss where the gradient norm was expected.",
       "Monitoring code reads the returned value as a gradient norm and draws wrong conclusions.",
       "Return the value of clip_grad_norm_."),
    _m("per-parameter-clipping", "Each parameter clipped on its own", per_parameter_clipping,
       "Your step called the clipping function once per parameter tensor.",
       "Each tensor is clipped to max_norm separately, so the whole update can be far longer than max_norm.",
       "Per-tensor clipping changes the update's direction and does not bound its length.",
       "Clip all parameters in one call: clip_grad_norm_(model.parameters(), max_norm)."),
]


def _probe(sizes, optimizer="sgd", lr=0.1, steps=2, batch=4, max_norm=1.0, gain=1.0, stale=0.0, seed=0,
           data_seed=0) -> Scenario:
    rng = np.random.default_rng(data_seed)
    return {"model": {"sizes": list(sizes), "seed": seed, "gain": gain},
            "optimizer": {"optimizer": optimizer, "lr": lr},
            "x": rng.normal(size=(steps, batch, sizes[0])), "y": rng.normal(size=(steps, batch, sizes[-1])),
            "max_norm": None if max_norm is None else float(max_norm), "stale": stale}


PROBES = [
    _probe([4, 6, 2], gain=4.0, max_norm=0.3),
    _probe([4, 6, 2], gain=4.0, max_norm=2.5, data_seed=1),
    _probe([3, 1], gain=3.0, max_norm=None, steps=3),
    _probe([4, 3, 2], stale=2.0, max_norm=100.0, steps=2),
    _probe([4, 6, 2], optimizer="momentum", gain=3.0, max_norm=0.5, steps=3),
    _probe([3, 4, 1], gain=0.1, max_norm=100.0, steps=2),
    _probe([5, 8, 1], optimizer="adam", lr=0.01, gain=3.0, max_norm=0.5, steps=2),
]
