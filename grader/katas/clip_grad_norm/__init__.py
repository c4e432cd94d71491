"""Kata: clip gradients by their global L2 norm, as torch.nn.utils.clip_grad_norm_ does."""

from __future__ import annotations

from .._kata import Kata


def _oracle() -> dict:
    import torch

    def clip_grad_norm(parameters, max_norm):
        return torch.nn.utils.clip_grad_norm_(parameters, max_norm)

    return {"clip_grad_norm": clip_grad_norm}


STUB = '''
import torch


def clip_grad_norm(parameters, max_norm):
    """Clip gradients by their global L2 norm, in place.

    The global norm treats every gradient as one long vector:

        total_norm = sqrt(sum over parameters p of ||p.grad||^2)

    Every gradient is then multiplied by the same coefficient

        clip_coef = min(1, max_norm / (total_norm + 1e-6))

    so the direction of the whole update is kept and only its length shrinks.
    The 1e-6 keeps the division finite when every gradient is zero.

    Args:
        parameters: a single tensor, or an iterable of tensors (a list, or a
            generator such as ``model.parameters()`` -- you may only iterate it
            once). Parameters whose ``.grad`` is None are skipped.
        max_norm: the largest global norm allowed after clipping.

    Returns:
        The global norm *before* clipping (a tensor or a Python float);
        ``tensor(0.)`` when no parameter has a gradient.

    Example:
        grads [3, 4] and [12] have global norm 13; with max_norm 6.5 they
        become [1.5, 2] and [6], and the function returns 13.

    Graded in tiers. Interview (the question as asked; PASS needs all of it):
    lists, tuples and generators of float32/float64 parameters, None grads,
    no gradient at all, max_norm > 0 or inf. Parity (PyTorch's full contract,
    one check each): a lone tensor, a parameter listed twice, float16 and
    bfloat16, 0-d and 3-d gradients, NaN/inf gradients, max_norm = 0.
    """
    raise NotImplementedError("clip_grad_norm is not implemented yet")
'''

KATA = Kata(
    slug="clip_grad_norm",
    title="Clip gradients by global norm",
    topic="clipping",
    summary="Implement clip_grad_norm(parameters, max_norm): scale every gradient in place so that "
    "their global L2 norm is at most max_norm, and return the norm before clipping. "
    "PyTorch's torch.nn.utils.clip_grad_norm_ is the oracle; do not call it.",
    functions=("clip_grad_norm",),
    stub=STUB,
    forbid=("clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"),
    oracle=_oracle,
)
