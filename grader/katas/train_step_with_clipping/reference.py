"""Reference: zero_grad, backward, clip by global norm, step."""

from __future__ import annotations

import torch


def train_step_with_clipping(model, optimizer, loss, max_norm=1.0):
    optimizer.zero_grad()
    loss.backward()
    # Clip between backward and step: the update must see the clipped gradients.
    total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
    optimizer.step()
    return total_norm
