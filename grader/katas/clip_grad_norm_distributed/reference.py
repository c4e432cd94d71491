"""Reference: clip a sharded model's gradients by the global norm of the whole model."""

from __future__ import annotations

import math

import torch
import torch.distributed as dist

EPS = 1e-6


def _local(grads: list[torch.Tensor], norm_type: float) -> torch.Tensor:
    """This rank's share, in float64 whatever the gradients' dtype (float16 squares
    overflow, and every rank must reduce the same dtype, even one without
    gradients): the max for the inf-norm, the sum of |g|^p otherwise (sums add up
    across ranks, norms do not)."""
    if not grads:
        return torch.zeros((), dtype=torch.float64)
    norms = torch.stack([torch.linalg.vector_norm(g.detach(), norm_type, dtype=torch.float64) for g in grads])
    return norms.max() if math.isinf(norm_type) else norms.pow(norm_type).sum()


def clip_grad_norm_distributed(parameters, max_norm, norm_type=2.0, group=None):
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    norm_type = float(norm_type)
    with_grad = [p for p in params if p.grad is not None]
    sharded = [p.grad for p in with_grad if not getattr(p, "replicated", False)]
    replicated = [p.grad for p in with_grad if getattr(p, "replicated", False)]
    inf = math.isinf(norm_type)
    # Every rank joins the collective, even one without gradients: a rank that
    # skips it leaves the others waiting forever.
    total = _local(sharded, norm_type)
    dist.all_reduce(total, op=dist.ReduceOp.MAX if inf else dist.ReduceOp.SUM, group=group)
    # Replicated parameters hold the same gradient on every rank: added once,
    # after the reduction, or they would count world-size times.
    mine = _local(replicated, norm_type)
    total = torch.maximum(total, mine) if inf else (total + mine) ** (1.0 / norm_type)
    # A clamped coefficient, no `if`: no host sync, and never a scale above 1.
    coef = torch.clamp(max_norm / (total + EPS), max=1.0)
    for g in sharded + replicated:
        g.detach().mul_(coef.to(g.dtype))
    return total
