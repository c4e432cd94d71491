import torch


def clip_grad_norm(parameters, max_norm):
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.to(g.dtype))
    return total


if __name__ == "__main__":
    w = torch.nn.Parameter(torch.ones(2))
    w.grad = torch.tensor([3.0, 4.0])
    print(clip_grad_norm([w], 1.0), torch.nn.utils.clip_grad_norm_([w], 1.0))
