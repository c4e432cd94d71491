import torch


def clip_grad_norm(parameters, max_norm):
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    with_grad = [p for p in params if p.grad is not None]
    if not with_grad:
        return 0.0
    norm = torch.sqrt(sum(p.grad.pow(2).sum() for p in with_grad))
    scale = max_norm / (norm + 1e-6)
    for p in with_grad:
        p.grad.detach().mul_(scale)
    return norm
