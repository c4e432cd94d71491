"""Kata: clamp every gradient element, as torch.nn.utils.clip_grad_value_ does."""

from __future__ import annotations

from .._kata import Kata


def _oracle() -> dict:
    import torch

    def clip_grad_value(parameters, clip_value):
        return torch.nn.utils.clip_grad_value_(parameters, clip_value)

    return {"clip_grad_value": clip_grad_value}


STUB = '''
import torch


def clip_grad_value(parameters, clip_value):
    """Clamp every gradient element to [-clip_value, clip_value], in place.

    Unlike norm clipping, each element is treated on its own, so the direction
    of the update can change: [10, 0.1] clipped at 1 becomes [1, 0.1].

    Args:
        parameters: a single tensor, or an iterable of tensors (possibly a
            generator: iterate it once). Skip parameters whose ``.grad`` is None.
        clip_value: the largest absolute value allowed for any gradient element.

    Returns:
        None. The gradients are modified in place.

    Graded in tiers. Interview (the question as asked; PASS needs all of it):
    lists, tuples and generators of float32/float64 parameters, None grads,
    clip_value > 0. Parity (PyTorch's full contract, one check each): a lone
    tensor, a parameter listed twice, float16 and bfloat16, 0-d and 3-d
    gradients, infinite gradients, clip_value = 0.
    """
    raise NotImplementedError("clip_grad_value is not implemented yet")
'''

KATA = Kata(
    slug="clip_grad_value",
    title="Clip gradients by value",
    topic="clipping",
    summary="Implement clip_grad_value(parameters, clip_value): clamp every gradient element to "
    "[-clip_value, clip_value] in place. PyTorch's torch.nn.utils.clip_grad_value_ is the oracle; "
    "do not call it.",
    functions=("clip_grad_value",),
    stub=STUB,
    forbid=("clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"),
    oracle=_oracle,
)
