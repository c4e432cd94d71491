"""Kata: an adaptive clipper whose threshold is a percentile of past gradient norms."""

from __future__ import annotations

from .._kata import Kata


def _oracle() -> dict:
    import torch

    class AdaptiveGradientClipper:
        """PyTorch's pieces: get_total_norm, torch.quantile (linear, as np.percentile),
        clip_grads_with_norm_; the history is a fixed-size ring of float64."""

        def __init__(self, percentile=90, warmup_steps=100, history_size=10_000):
            self.percentile, self.warmup_steps = percentile, warmup_steps
            self.size = history_size
            self.history = torch.empty(0, dtype=torch.float64)
            self.step = 0

        def clip(self, model):
            params = [p for p in model.parameters() if p.grad is not None]
            grads = [p.grad for p in params]
            total = torch.nn.utils.get_total_norm(grads) if grads else torch.tensor(0.0)
            self.history = torch.cat([self.history, total.double().reshape(1)])
            if self.size is not None:
                self.history = self.history[-self.size:]
            self.step += 1
            if self.step < self.warmup_steps:
                max_norm = 1.0
            else:
                max_norm = float(torch.quantile(self.history, self.percentile / 100.0))
            if params:
                torch.nn.utils.clip_grads_with_norm_(params, max_norm, total)
            return float(total), max_norm

    return {"AdaptiveGradientClipper": AdaptiveGradientClipper}


STUB = '''
from collections import deque

import numpy as np
import torch


class AdaptiveGradientClipper:
    """Clip by global norm with a threshold that adapts to the run (AutoClip,
    Seetharaman et al. 2020): the threshold is a percentile of the gradient
    norms seen so far.

    Every call to ``clip(model)``:
      1. computes the global L2 norm of the model's gradients (skip parameters
         whose .grad is None) -- the norm *before* clipping;
      2. appends it to the history, then adds 1 to the step counter;
      3. picks the threshold: 1.0 while ``step < warmup_steps`` (so with the
         default 100, calls 1 to 99 use 1.0 and call 100 is the first to use
         the percentile), afterwards ``np.percentile(history, percentile)``
         (NumPy's default linear interpolation; the history includes the norm
         just appended);
      4. clips the gradients by global norm with that threshold (you may use
         torch.nn.utils.clip_grad_norm_);
      5. returns ``(total_norm, max_norm)``: the pre-clip norm and the threshold.

    Memory (parity tier; the interview question is the article's class,
    which takes no history_size): a run of a million steps must not keep a
    million norms. Keep at
    most ``history_size`` of the most recent norms (a ``deque(maxlen=...)``
    does this); ``history_size=None`` keeps them all, as the seed did. The
    default, 10_000, holds every norm of a short run (so it behaves exactly
    like the unbounded seed there) while capping memory at a few hundred KB
    and the cost of each percentile at sorting 10_000 numbers.

    Args:
        percentile: which percentile of the history becomes the threshold (0-100).
        warmup_steps: the fixed threshold 1.0 is used while step < warmup_steps.
        history_size: how many recent norms to keep (None: all).
    """

    def __init__(self, percentile=90, warmup_steps=100, history_size=10_000):
        raise NotImplementedError("AdaptiveGradientClipper is not implemented yet")

    def clip(self, model):
        """Record the gradient norm, choose the threshold, clip; return (total_norm, max_norm)."""
        raise NotImplementedError("AdaptiveGradientClipper.clip is not implemented yet")
'''

KATA = Kata(
    slug="adaptive_clipper",
    title="Adaptive (percentile) gradient clipping",
    topic="clipping",
    summary="Implement class AdaptiveGradientClipper(percentile=90, warmup_steps=100, history_size=10_000) "
    "whose clip(model) records the pre-clip global gradient norm, uses the threshold 1.0 during warmup and "
    "then the given percentile of the recorded norms, clips with it and returns (total_norm, max_norm).",
    functions=("AdaptiveGradientClipper",),
    stub=STUB,
    oracle=_oracle,
)
