"""Reference: unit-wise adaptive gradient clipping (AGC, Brock et al. 2021), timm's semantics."""

from __future__ import annotations

import torch

TINY = 1e-6  # floor on a unit's gradient norm: only matters when the limit is 0


def _unit_shape(t: torch.Tensor) -> tuple[int, ...]:
    # A unit is one output row (Linear) or filter (Conv): everything but dim 0
    # belongs to it. Vectors and scalars (biases, gains) are a single unit.
    return (t.shape[0], -1) if t.ndim > 1 else (1, -1)


def _clip_one(p: torch.Tensor, clip_factor: float, eps: float) -> None:
    weight, grad = p.detach(), p.grad.detach()
    w_norm = torch.linalg.vector_norm(weight.reshape(_unit_shape(weight)), dim=1)
    g_norm = torch.linalg.vector_norm(grad.reshape(_unit_shape(grad)), dim=1)
    limit = clip_factor * w_norm.clamp(min=eps)
    # Units within the limit keep their gradient exactly; the others are
    # scaled so that ||G_i|| becomes clip_factor * max(||W_i||, eps).
    coef = torch.where(g_norm < limit, torch.ones_like(g_norm), limit / g_norm.clamp(min=TINY))
    coef = coef.reshape((-1,) + (1,) * (grad.ndim - 1)) if grad.ndim > 1 else coef.reshape(())
    grad.mul_(coef.to(grad.dtype))


def adaptive_grad_clip(parameters, clip_factor=0.01, eps=1e-3):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    for p in parameters:
        if p.grad is not None:
            _clip_one(p, clip_factor, eps)
