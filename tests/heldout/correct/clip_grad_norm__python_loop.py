import torch


def clip_grad_norm(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = []
    for p in parameters:
        if p.grad is not None:
            grads.append(p.grad)
    squares = 0.0
    for g in grads:
        squares += (g.double() ** 2).sum()
    total = squares ** 0.5 if grads else torch.tensor(0.0)
    if grads and total > max_norm:
        for g in grads:
            g.mul_(max_norm / (total + 1e-6))
    return total
