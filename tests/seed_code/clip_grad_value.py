# The interview question's "Reference implementation" of clip_grad_value, as
# the seed writes it.
import torch


def clip_grad_value(parameters, clip_value):
    """
    Clip gradients by value (clamp each element).
    """
    parameters = [p for p in parameters if p.grad is not None]

    for p in parameters:
        p.grad.detach().clamp_(-clip_value, clip_value)
