import torch


def clip_grad_norm(parameters, max_norm):
    params = [parameters] if torch.is_tensor(parameters) else list(parameters)
    total = 0.0
    for p in params:
        if p.grad is None:
            continue
        n = torch.linalg.norm(p.grad.flatten())
        total += float(n) ** 2
        if n > max_norm:
            p.grad.data.mul_(max_norm / n)
    return total ** 0.5
