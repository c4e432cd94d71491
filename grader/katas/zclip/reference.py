"""Reference: ZClip (Kumar et al. 2025), z-score gradient clipping on an EMA of the norm."""

from __future__ import annotations

import math

import torch

EPS = 1e-6


class ZClip:
    def __init__(self, alpha=0.97, z_thresh=2.5, max_grad_norm=1.0, warmup_steps=25):
        self.alpha, self.z_thresh = alpha, z_thresh
        self.max_grad_norm, self.warmup_steps = max_grad_norm, warmup_steps
        self.buffer = []  # the warm-up norms; emptied once the statistics start
        self.mean = None  # None until the warm-up ends
        self.var = 0.0

    def step(self, model):
        params = [p for p in model.parameters() if p.grad is not None]
        total_norm = math.sqrt(sum(float(torch.linalg.vector_norm(p.grad.detach(), dtype=torch.float64)) ** 2
                                   for p in params))
        # The ceiling holds on every step; the z-score rule only after warm-up.
        threshold = math.inf if self.max_grad_norm is None else float(self.max_grad_norm)
        if self.mean is not None:
            std = math.sqrt(self.var)
            if (total_norm - self.mean) / (std + EPS) > self.z_thresh:
                threshold = min(self.mean + self.z_thresh * std, threshold)
        if math.isfinite(threshold):
            torch.nn.utils.clip_grad_norm_(params, threshold)
        used = min(total_norm, threshold)
        if self.mean is None:
            # Warm-up: collect raw norms, then start the EMA from their mean and
            # (population) variance.
            self.buffer.append(total_norm)
            if len(self.buffer) >= self.warmup_steps:
                self.mean = sum(self.buffer) / len(self.buffer)
                self.var = sum((x - self.mean) ** 2 for x in self.buffer) / len(self.buffer)
                self.buffer = []
        else:
            # The EMA sees the clipped norm: a spike must not drag the statistics up.
            self.mean = self.alpha * self.mean + (1 - self.alpha) * used
            self.var = self.alpha * self.var + (1 - self.alpha) * (used - self.mean) ** 2
        return used
