"""Kata: one training step with gradient clipping in the right place."""

from __future__ import annotations

from .._kata import Kata


def _oracle() -> dict:
    import torch

    def train_step_with_clipping(model, optimizer, loss, max_norm=1.0):
        optimizer.zero_grad()
        loss.backward()
        total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
        optimizer.step()
        return total

    return {"train_step_with_clipping": train_step_with_clipping}


STUB = '''
import torch


def train_step_with_clipping(model, optimizer, loss, max_norm=1.0):
    """One optimisation step with gradient norm clipping.

    The order is the whole exercise:
      1. clear the gradients left by the previous step,
      2. back-propagate ``loss``,
      3. clip the gradients by their global norm (max_norm),
      4. let the optimizer update the weights.
    Clipping after ``optimizer.step()`` is too late: the update has already
    used the unclipped gradients.

    You may use ``torch.nn.utils.clip_grad_norm_`` here.

    Args:
        model: a torch.nn.Module whose forward pass produced ``loss``.
        optimizer: an optimizer over ``model.parameters()``.
        loss: a scalar tensor, not yet back-propagated.
        max_norm: the largest global gradient norm allowed.

    Returns:
        The global gradient norm before clipping (useful for monitoring).
    """
    raise NotImplementedError("train_step_with_clipping is not implemented yet")
'''

KATA = Kata(
    slug="train_step_with_clipping",
    title="A training step with clipping",
    topic="training",
    summary="Implement train_step_with_clipping(model, optimizer, loss, max_norm=1.0): zero the "
    "gradients, back-propagate, clip by global norm, step, and return the pre-clip norm.",
    functions=("train_step_with_clipping",),
    stub=STUB,
    oracle=_oracle,
)
