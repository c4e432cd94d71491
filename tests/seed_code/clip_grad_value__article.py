# The article's manual implementation ("Gradient Clipping"), as the seed writes
# it; renamed from clip_grad_value_manual to the kata's clip_grad_value.
import torch
import torch.nn as nn


def clip_grad_value(parameters, clip_value):
    """Clip each gradient element to [-clip_value, clip_value]."""
    for p in parameters:
        if p.grad is not None:
            p.grad.data.clamp_(-clip_value, clip_value)
