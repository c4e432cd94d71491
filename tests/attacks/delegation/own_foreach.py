# The control: the student's own implementation on PyTorch's foreach primitives.
# It must keep full marks: primitives are allowed, only the clipping itself is not.
import torch


def clip_grad_norm(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    norms = torch._foreach_norm([g.detach() for g in grads], 2.0)
    total = torch.linalg.vector_norm(torch.stack([n.to(grads[0].device) for n in norms]), 2.0)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    by_type = {}
    for g in grads:
        by_type.setdefault((g.device, g.dtype), []).append(g.detach())
    for (device, dtype), group in by_type.items():
        torch._foreach_mul_(group, coef.to(device, dtype))
    return total
