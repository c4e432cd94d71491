import torch


def clip_grad_norm(parameters, max_norm):
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.cat([g.reshape(-1).double() for g in grads]))
    coef = min(1.0, max_norm / (float(total) + 1e-6))
    for g in grads:
        g = g.clone()
        g.mul_(coef)
    return total
