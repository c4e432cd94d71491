"""Kata: a mixed-precision training step that clips the *unscaled* gradients."""

from __future__ import annotations

from .._kata import Kata


def _oracle() -> dict:
    import torch

    def train_step_amp(model, optimizer, scaler, loss, max_norm=1.0):
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        params = [p for p in model.parameters() if p.grad is not None]
        total = torch.nn.utils.get_total_norm([p.grad for p in params])
        torch.nn.utils.clip_grads_with_norm_(params, max_norm, total)
        scaler.step(optimizer)
        scaler.update()
        return total

    return {"train_step_amp": train_step_amp}


STUB = '''
import torch


def train_step_amp(model, optimizer, scaler, loss, max_norm=1.0):
    """One mixed-precision (AMP) training step with gradient norm clipping.

    A GradScaler multiplies the loss by a large factor (the scale, e.g. 65536)
    before backward so that small float16 gradients do not underflow. The
    gradients in p.grad are therefore *scaled* until the scaler divides them
    back. Clipping has to see the true gradients:

      1. clear the gradients of the previous step (optimizer.zero_grad()),
      2. scaler.scale(loss).backward(),
      3. scaler.unscale_(optimizer)   -- p.grad now holds the true gradients,
      4. clip them by their global norm to max_norm,
      5. scaler.step(optimizer)       -- skips the update if any gradient is
                                         inf or NaN, otherwise steps,
      6. scaler.update()              -- adjusts the scale for the next step.

    Clipping the scaled gradients instead clips at max_norm / scale: almost
    every update becomes tiny. Calling optimizer.step() directly loses the
    inf/NaN check; forgetting scaler.update() freezes the scale.

    You may use ``torch.nn.utils.clip_grad_norm_`` here.

    Args:
        model: a torch.nn.Module whose forward pass produced ``loss``.
        optimizer: an optimizer over ``model.parameters()``.
        scaler: a torch.amp.GradScaler (``torch.amp.GradScaler("cpu")`` runs
            on the CPU).
        loss: a scalar tensor, not yet back-propagated (not scaled).
        max_norm: the largest global norm of the true (unscaled) gradients.

    Returns:
        The global norm of the unscaled gradients before clipping (inf or NaN
        when the step overflowed and the scaler skipped it).
    """
    raise NotImplementedError("train_step_amp is not implemented yet")
'''

KATA = Kata(
    slug="train_step_amp",
    title="Clipping under mixed precision",
    topic="training",
    summary="Implement train_step_amp(model, optimizer, scaler, loss, max_norm=1.0): scale and back-propagate "
    "the loss, unscale the gradients, clip them, step through the scaler, update the scale, and return the "
    "unscaled pre-clip norm.",
    functions=("train_step_amp",),
    stub=STUB,
    oracle=_oracle,
)
