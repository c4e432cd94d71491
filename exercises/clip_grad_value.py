"""Clip gradients by value.

Implement clip_grad_value(parameters, clip_value): clamp every gradient element
to [-clip_value, clip_value] in place. PyTorch's
torch.nn.utils.clip_grad_value_ is the oracle; do not call it.

Run `gradkata check clip_grad_value` to try the visible examples,
`gradkata grade` for the full hidden suite.
"""

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
