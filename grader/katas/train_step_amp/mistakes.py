"""The usual mistakes in train_step_amp: mutants and feedback.

Each mutant is the reference with one bug, written the way a student would
write it. They run only in the trusted process.
"""

from __future__ import annotations

import torch

from gradkata.mistakes import maker

from .scenarios import scenario

SLUG = "train_step_amp"


def _clip(model, max_norm):
    return torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)


def no_unscale(model, optimizer, scaler, loss, max_norm=1.0):
    optimizer.zero_grad()
    scaler.scale(loss).backward()
    total = _clip(model, max_norm)  # the gradients are still multiplied by the scale
    scaler.step(optimizer)
    scaler.update()
    return total


def unscale_after_clip(model, optimizer, scaler, loss, max_norm=1.0):
    optimizer.zero_grad()
    scaler.scale(loss).backward()
    total = _clip(model, max_norm)
    scaler.unscale_(optimizer)
    scaler.step(optimizer)
    scaler.update()
    return total


def optimizer_step(model, optimizer, scaler, loss, max_norm=1.0):
    optimizer.zero_grad()
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    total = _clip(model, max_norm)
    optimizer.step()  # no inf/NaN check
    scaler.update()
    return total


def no_update(model, optimizer, scaler, loss, max_norm=1.0):
    optimizer.zero_grad()
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    total = _clip(model, max_norm)
    scaler.step(optimizer)
    return total


def returns_scaled_norm(model, optimizer, scaler, loss, max_norm=1.0):
    optimizer.zero_grad()
    scaler.scale(loss).backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))  # still scaled
    scaler.unscale_(optimizer)
    _clip(model, max_norm)
    scaler.step(optimizer)
    scaler.update()
    return total


_m = maker(SLUG, "train_step_amp")


MISTAKES = [
    _m("no-unscale", "Clipped the scaled gradients", no_unscale,
       "Your code clipped right after scaler.scale(loss).backward(), while p.grad still held the gradients "
       "multiplied by the loss scale.",
       "The norm you clipped and returned is scale times too large, and the update is clipped to "
       "max_norm / scale (1.5e-5 instead of 1.0 at scale 65536).",
       "Every step becomes almost zero: the model stops learning while the loss curve merely looks flat.",
       "Call scaler.unscale_(optimizer) after backward and before clipping; scaler.step will not unscale again."),
    _m("unscale-after-clip", "Unscaled after clipping", unscale_after_clip,
       "Your code clipped first and called scaler.unscale_(optimizer) afterwards.",
       "Clipping saw the scaled gradients, so after unscaling the update is clipped to max_norm / scale, and "
       "the returned norm is scale times too large.",
       "The order is the whole point: the threshold means something only for the true gradients.",
       "Order: scale(loss).backward(), unscale_, clip, scaler.step, scaler.update."),
    _m("optimizer-step", "optimizer.step() instead of scaler.step(optimizer)", optimizer_step,
       "Your code called optimizer.step() directly.",
       "When a step overflows (inf or NaN gradients) the update still happens and the weights become NaN.",
       "The scaler exists to skip overflowing steps and lower the scale; bypassing it lets one bad batch "
       "destroy the model.",
       "Call scaler.step(optimizer): it steps only when unscale_ found no inf/NaN."),
    _m("no-update", "scaler.update() was never called", no_update,
       "Your code never called scaler.update().",
       "The scale never changes, and the next step fails with a RuntimeError from the scaler (unscale_ or "
       "step called twice since the last update()).",
       "Without update the scaler cannot recover from overflow (halve) or regain precision (grow), and "
       "training crashes on the second step.",
       "End every step with scaler.update()."),
    _m("returns-scaled-norm", "Returned the norm of the scaled gradients", returns_scaled_norm,
       "Your code measured the gradient norm before scaler.unscale_ and returned it.",
       "The clipping and the update are right, but the reported norm is scale times too large.",
       "Logged norms in the tens of thousands hide the real gradient size and make thresholds chosen from "
       "them meaningless.",
       "Return the norm that clip_grad_norm_ reports after unscale_."),
]

PROBES = [
    scenario(gain=3.0),
    scenario(steps=3, nan_step=1, gain=3.0),
    scenario(steps=1, gain=3.0),
]
