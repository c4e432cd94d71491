"""Reference: zero_grad, scaled backward, unscale, clip, scaler.step, scaler.update."""

from __future__ import annotations

import torch


def train_step_amp(model, optimizer, scaler, loss, max_norm=1.0):
    optimizer.zero_grad()
    scaler.scale(loss).backward()
    # The gradients are multiplied by the scale until unscale_ divides them back;
    # clipping before this would clip at max_norm / scale.
    scaler.unscale_(optimizer)
    total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
    # scaler.step skips the update when unscale_ found an inf or NaN.
    scaler.step(optimizer)
    scaler.update()
    return total_norm
