"""Reference: clip gradients by global norm, with torch.nn.utils.clip_grad_norm_'s semantics."""

from __future__ import annotations

import torch

EPS = 1e-6


def _grads(parameters) -> list[torch.Tensor]:
    # A lone tensor is one parameter; anything else is iterated exactly once,
    # so a generator such as model.parameters() works.
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _total_norm(grads: list[torch.Tensor]) -> torch.Tensor:
    norms = [torch.linalg.vector_norm(g.detach(), 2.0) for g in grads]
    device = grads[0].device
    return torch.linalg.vector_norm(torch.stack([n.to(device) for n in norms]), 2.0)


def clip_grad_norm(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    total = _total_norm(grads)
    # Multiply unconditionally by a clamped coefficient: no `if` on a tensor,
    # hence no host-device synchronisation on GPU.
    coef = torch.clamp(max_norm / (total + EPS), max=1.0)
    for g in grads:
        g.detach().mul_(coef.to(g.device, g.dtype))
    return total
