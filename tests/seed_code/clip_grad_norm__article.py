# The article's manual implementation ("Gradient Clipping"), as the seed writes
# it; renamed from clip_grad_norm_manual to the kata's clip_grad_norm.
import torch
import torch.nn as nn


def clip_grad_norm(parameters, max_norm):
    """Manual gradient norm clipping."""
    parameters = list(filter(lambda p: p.grad is not None, parameters))
    
    # Compute total norm
    total_norm = 0
    for p in parameters:
        total_norm += p.grad.data.norm(2).item() ** 2
    total_norm = total_norm ** 0.5
    
    # Clip if necessary
    clip_coef = max_norm / (total_norm + 1e-6)
    if clip_coef < 1:
        for p in parameters:
            p.grad.data.mul_(clip_coef)
    
    return total_norm
