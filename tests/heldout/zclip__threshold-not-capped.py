import math

import torch


class ZClip:
    """Applies max_grad_norm only while warming up (the bug)."""

    def __init__(self, alpha=0.97, z_thresh=2.5, max_grad_norm=1.0, warmup_steps=25):
        self.alpha, self.z_thresh, self.max_grad_norm, self.warmup_steps = alpha, z_thresh, max_grad_norm, warmup_steps
        self.norms = []
        self.mu = None
        self.var = 0.0

    def step(self, model):
        params = [p for p in model.parameters() if p.grad is not None]
        total = math.sqrt(sum(p.grad.double().pow(2).sum().item() for p in params))
        if self.mu is None:
            limit = math.inf if self.max_grad_norm is None else self.max_grad_norm
        else:
            std = math.sqrt(self.var)
            spike = (total - self.mu) / (std + 1e-6) > self.z_thresh
            limit = self.mu + self.z_thresh * std if spike else math.inf
        if limit < math.inf:
            torch.nn.utils.clip_grad_norm_(params, limit)
        used = min(total, limit)
        if self.mu is None:
            self.norms.append(total)
            if len(self.norms) >= self.warmup_steps:
                self.mu = sum(self.norms) / len(self.norms)
                self.var = sum((n - self.mu) ** 2 for n in self.norms) / len(self.norms)
        else:
            self.mu = self.alpha * self.mu + (1 - self.alpha) * used
            self.var = self.alpha * self.var + (1 - self.alpha) * (used - self.mu) ** 2
        return used
