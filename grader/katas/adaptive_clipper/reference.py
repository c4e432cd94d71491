"""Reference: the seed's percentile (AutoClip-style) clipper, with a bounded history."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import torch

HISTORY_SIZE = 10_000


class AdaptiveGradientClipper:
    def __init__(self, percentile=90, warmup_steps=100, history_size=HISTORY_SIZE):
        self.percentile = percentile
        self.warmup_steps = warmup_steps
        # A deque with maxlen forgets the oldest norm once full: constant memory
        # however long the run (None keeps everything, as the seed does).
        self.gradient_history: deque[float] = deque(maxlen=history_size)
        self.step = 0

    def clip(self, model):
        params = [p for p in model.parameters() if p.grad is not None]
        total_norm = math.sqrt(sum(float(torch.linalg.vector_norm(p.grad.detach(), dtype=torch.float64)) ** 2
                                   for p in params))
        # Record first, then count the step: the current norm takes part in its
        # own percentile, and the first warmup_steps - 1 calls use 1.0.
        self.gradient_history.append(total_norm)
        self.step += 1
        if self.step < self.warmup_steps:
            max_norm = 1.0
        else:
            max_norm = float(np.percentile(np.fromiter(self.gradient_history, dtype=np.float64), self.percentile))
        torch.nn.utils.clip_grad_norm_(params, max_norm)
        return total_norm, max_norm
