"""Reference: gradient accumulation over micro-batches, clipped once, one step."""

from __future__ import annotations

import torch


def train_step_accumulate(model, optimizer, criterion, micro_batches, max_norm=1.0):
    optimizer.zero_grad()
    n = len(micro_batches)
    for x, y in micro_batches:
        # Dividing each micro-batch loss by n makes the accumulated gradient the
        # gradient of the average loss; one backward per micro-batch frees its
        # activations before the next forward pass.
        loss = criterion(model(x), y) / n
        loss.backward()
    # Clip once, the full accumulated gradient: clipping the partial sums would
    # not give the clipped total.
    total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
    optimizer.step()
    return total_norm
