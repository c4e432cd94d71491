"""Reference: a gradient monitor (pre-clip norms, clip rate, summary, plot)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np


class GradientMonitor:
    def __init__(self):
        self.norms = []
        self.clipped_count = 0
        self.total_count = 0
        self.max_norm = None

    def log(self, model, max_norm):
        squares = 0.0
        for p in model.parameters():
            if p.grad is not None:
                squares += float(p.grad.detach().double().pow(2).sum())
        total_norm = math.sqrt(squares)
        self.norms.append(total_norm)
        self.total_count += 1
        # Strictly greater: clip_grad_norm_ leaves a norm equal to max_norm (almost) unchanged.
        if total_norm > max_norm:
            self.clipped_count += 1
        self.max_norm = max_norm
        return total_norm

    def summary(self):
        norms = np.asarray(self.norms, dtype=np.float64)
        stats = {
            "total_steps": self.total_count,
            "clip_rate": self.clipped_count / max(self.total_count, 1),
            "mean": float(norms.mean()) if norms.size else float("nan"),
            "max": float(norms.max()) if norms.size else float("nan"),
        }
        print(f"Gradient norms over {stats['total_steps']} steps: clipped {stats['clip_rate']:.1%}, "
              f"mean {stats['mean']:.4f}, max {stats['max']:.4f}")
        return stats

    def plot(self):
        fig, ax = plt.subplots(figsize=(10, 4))
        ax.plot(self.norms, alpha=0.7, label="gradient norm")
        ax.axhline(float(np.mean(self.norms)), color="r", linestyle="--", label="mean")
        if self.max_norm is not None:
            ax.axhline(self.max_norm, color="k", linestyle=":", label=f"max_norm = {self.max_norm:g}")
        ax.set_xlabel("training step")
        ax.set_ylabel("gradient norm (before clipping)")
        ax.legend()
        return fig
