import torch


def clip_grad_norm(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = (parameters,)
    norms = [torch.norm(p.grad) for p in parameters if p.grad is not None]
    if len(norms) == 0:
        return torch.tensor(0.0)
    total = torch.norm(torch.stack(norms))
    factor = max_norm / (total + 1e-6)
    if factor < 1:
        for p in parameters:
            if p.grad is not None:
                p.grad.mul_(factor)
    return total
