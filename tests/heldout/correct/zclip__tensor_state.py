import torch


class ZClip:
    """Statistics kept as float64 tensors, norms with foreach ops, no branch on a tensor while clipping."""

    def __init__(self, alpha=0.97, z_thresh=2.5, max_grad_norm=1.0, warmup_steps=25):
        self.alpha, self.z_thresh = alpha, z_thresh
        self.cap = float("inf") if max_grad_norm is None else float(max_grad_norm)
        self.warmup_steps = warmup_steps
        self.history = []
        self.mean = None
        self.var = None

    def step(self, model):
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        if grads:
            norms = torch._foreach_norm([g.double() for g in grads])
            total = torch.linalg.vector_norm(torch.stack(norms))
        else:
            total = torch.zeros((), dtype=torch.float64)
        threshold = torch.tensor(self.cap, dtype=torch.float64)
        if self.mean is not None:
            std = self.var.sqrt()
            z = (total - self.mean) / (std + 1e-6)
            threshold = torch.where(z > self.z_thresh, torch.minimum(self.mean + self.z_thresh * std, threshold),
                                    threshold)
        coef = torch.clamp(threshold / (total + 1e-6), max=1.0)
        if grads:
            torch._foreach_mul_(grads, [coef.to(g.dtype) for g in grads])
        used = torch.minimum(total, threshold)
        if self.mean is None:
            self.history.append(total)
            if len(self.history) >= self.warmup_steps:
                h = torch.stack(self.history)
                self.mean = h.mean()
                self.var = ((h - self.mean) ** 2).mean()
        else:
            self.mean = self.alpha * self.mean + (1 - self.alpha) * used
            self.var = self.alpha * self.var + (1 - self.alpha) * (used - self.mean) ** 2
        return float(used)
