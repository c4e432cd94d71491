# The interview question's "more memory-efficient version", as the seed writes
# it; renamed from clip_grad_norm_efficient to the kata's clip_grad_norm.
import torch


def clip_grad_norm(parameters, max_norm):
    """
    More memory-efficient version that doesn't create intermediate tensors.
    """
    parameters = [p for p in parameters if p.grad is not None]

    if len(parameters) == 0:
        return torch.tensor(0.)

    # Compute total norm without creating intermediate tensor
    total_norm = 0.
    for p in parameters:
        param_norm = p.grad.detach().data.norm(2)
        total_norm += param_norm.item() ** 2
    total_norm = total_norm ** 0.5

    # Clip
    clip_coef = max_norm / (total_norm + 1e-6)
    if clip_coef < 1:
        for p in parameters:
            p.grad.detach().mul_(clip_coef)

    return total_norm
