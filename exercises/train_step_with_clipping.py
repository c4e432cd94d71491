"""A training step with clipping.

Implement train_step_with_clipping(model, optimizer, loss, max_norm=1.0): zero
the gradients, back-propagate, clip by global norm, step, and return the pre-
clip norm.

Run `gradkata check train_step_with_clipping` to try the visible examples,
`gradkata grade` for the full hidden suite.
"""

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
