import torch


def clip_grad_value(parameters, clip_value):
    items = [parameters] if torch.is_tensor(parameters) else list(parameters)
    for p in items:
        g = p.grad
        if g is not None:
            g = g.clamp(min=-clip_value, max=clip_value)
