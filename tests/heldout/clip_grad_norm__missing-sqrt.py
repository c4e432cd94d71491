import torch


def clip_grad_norm(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.zeros((), dtype=torch.float64)
    for g in grads:
        total = total + torch.sum(g.double() * g.double())
    if total > max_norm:
        for g in grads:
            g *= max_norm / total
    return total
