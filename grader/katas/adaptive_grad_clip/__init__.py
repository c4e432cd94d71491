"""Kata: adaptive gradient clipping, unit by unit (AGC from NFNets)."""

from __future__ import annotations

from .._kata import Kata


def _oracle() -> dict:
    import torch

    # A direct transcription of timm's adaptive_clip_grad (timm is not a
    # dependency): unit-wise norms with keepdim, torch.where on the comparison.
    def unitwise_norm(x):
        if x.ndim <= 1:
            return x.norm(2.0)
        return x.norm(2.0, dim=tuple(range(1, x.ndim)), keepdim=True)

    def adaptive_grad_clip(parameters, clip_factor=0.01, eps=1e-3):
        if isinstance(parameters, torch.Tensor):
            parameters = [parameters]
        for p in parameters:
            if p.grad is None:
                continue
            p_data, g_data = p.detach(), p.grad.detach()
            max_norm = unitwise_norm(p_data).clamp_(min=eps).mul_(clip_factor)
            grad_norm = unitwise_norm(g_data)
            clipped_grad = g_data * (max_norm / grad_norm.clamp(min=1e-6))
            new_grads = torch.where(grad_norm < max_norm, g_data, clipped_grad)
            p.grad.detach().copy_(new_grads)

    return {"adaptive_grad_clip": adaptive_grad_clip}


STUB = '''
import torch


def adaptive_grad_clip(parameters, clip_factor=0.01, eps=1e-3):
    """Adaptive gradient clipping (AGC, Brock et al. 2021, used to train NFNets
    without batch normalisation), in place.

    Instead of one global threshold, each *unit* gets a threshold relative to
    the size of its own weights. A unit is one output row of a weight matrix
    (one filter of a conv kernel): for a tensor with 2 or more dimensions,
    unit i is W[i] and its norm is taken over all the other dimensions. A
    tensor with 0 or 1 dimensions (a bias, a gain) is a single unit.

    For every parameter p with a gradient, and every unit i of it:

        limit_i = clip_factor * max(||W_i||, eps)
        if ||G_i|| >= limit_i:   G_i <- G_i * limit_i / ||G_i||
        (otherwise G_i is left exactly as it is)

    where W = p (the weights) and G = p.grad. The eps floor stops units whose
    weights are zero (freshly initialised biases) from having their gradient
    wiped out. (timm's adaptive_clip_grad has these semantics; it also keeps
    ||G_i|| away from 0 with max(||G_i||, 1e-6) in the division.)

    Args:
        parameters: a tensor or an iterable of tensors (e.g. model.parameters(),
            a generator you may iterate only once); skip those whose .grad is None.
            (Interview tier: Linear weights and biases in an iterable; parity
            tier: conv weights (3-D, 4-D), a lone tensor, 0-d parameters.)
        clip_factor: lambda, the largest allowed ratio ||G_i|| / ||W_i||.
        eps: the floor on ||W_i||.

    Returns:
        None. Only the gradients change; never the weights.

    Example:
        W = [[3, 4], [0, 0]] with G = [[0.3, 0.4], [0.001, 0]] and the defaults:
        row 0 has limit 0.05 < 0.5 and becomes [0.03, 0.04]; row 1 has limit
        0.01 * 1e-3 = 1e-5 < 0.001 and becomes [1e-5, 0].
    """
    raise NotImplementedError("adaptive_grad_clip is not implemented yet")
'''

KATA = Kata(
    slug="adaptive_grad_clip",
    title="Adaptive gradient clipping (AGC)",
    topic="clipping",
    summary="Implement adaptive_grad_clip(parameters, clip_factor=0.01, eps=1e-3): clip each unit's gradient "
    "(each output row or filter) so that ||G_i|| / max(||W_i||, eps) <= clip_factor, in place, with the "
    "semantics of timm's adaptive_clip_grad.",
    functions=("adaptive_grad_clip",),
    stub=STUB,
    oracle=_oracle,
)
