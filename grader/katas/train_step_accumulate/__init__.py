"""Kata: gradient accumulation with clipping in the right place."""

from __future__ import annotations

from .._kata import Kata


def _oracle() -> dict:
    import torch

    def train_step_accumulate(model, optimizer, criterion, micro_batches, max_norm=1.0):
        # Accumulate the plain micro-batch losses, turn the sum into the mean
        # on .grad, then PyTorch's clip_grad_norm_ and one step.
        optimizer.zero_grad()
        for x, y in micro_batches:
            criterion(model(x), y).backward()
        with torch.no_grad():
            for p in model.parameters():
                if p.grad is not None:
                    p.grad.div_(len(micro_batches))
        total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        return total

    return {"train_step_accumulate": train_step_accumulate}


STUB = '''
import torch


def train_step_accumulate(model, optimizer, criterion, micro_batches, max_norm=1.0):
    """One optimisation step over several micro-batches (gradient accumulation),
    with gradient norm clipping.

    When a batch does not fit in memory it is split into micro-batches; their
    gradients are added up in .grad and the optimizer steps once:
      1. clear the gradients left by the previous step;
      2. for each (x, y) in micro_batches: loss = criterion(model(x), y)
         divided by the number of micro-batches, then loss.backward() --
         so the accumulated gradient is that of the *average* loss;
      3. after the last micro-batch, clip the accumulated gradients by their
         global norm (max_norm) -- once: clipping after every micro-batch
         clips partial sums, and a sum of clipped parts is not the clipped sum;
      4. optimizer.step(), once.

    You may use torch.nn.utils.clip_grad_norm_ here.

    Args:
        model: a torch.nn.Module, already in training mode (it may hold
            dropout); some parameters may be frozen or unused by the forward,
            so their .grad stays None.
        optimizer: an optimizer over model.parameters().
        criterion: a loss module, e.g. torch.nn.MSELoss(); criterion(output, y)
            is a scalar.
        micro_batches: a list of (x, y) pairs of tensors.
        max_norm: the largest global gradient norm allowed at the step.

    Returns:
        The global gradient norm of the accumulated gradients before clipping.
    """
    raise NotImplementedError("train_step_accumulate is not implemented yet")
'''

KATA = Kata(
    slug="train_step_accumulate",
    title="Gradient accumulation with clipping",
    topic="training",
    summary="Implement train_step_accumulate(model, optimizer, criterion, micro_batches, max_norm=1.0): "
    "average the loss over the micro-batches, back-propagate each, clip the accumulated gradients once, "
    "step once, and return the pre-clip norm.",
    functions=("train_step_accumulate",),
    stub=STUB,
    oracle=_oracle,
)
