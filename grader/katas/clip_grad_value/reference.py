"""Reference: clamp every gradient element, as torch.nn.utils.clip_grad_value_ does."""

from __future__ import annotations

import torch


def clip_grad_value(parameters, clip_value):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    clip_value = float(clip_value)
    for p in parameters:
        if p.grad is not None:
            # Two one-sided clamps, in torch's order: with a negative clip_value
            # every element ends up at clip_value, exactly as torch does.
            p.grad.detach().clamp_min_(-clip_value).clamp_max_(clip_value)
    # Unlike torch 2.13, empty input is a no-op here rather than an error.
    return None
