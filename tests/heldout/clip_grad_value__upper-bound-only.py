import torch


def clip_grad_value(parameters, clip_value):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    for p in parameters:
        if p.grad is None:
            continue
        p.grad.data = torch.minimum(p.grad.data, torch.full_like(p.grad.data, clip_value))
