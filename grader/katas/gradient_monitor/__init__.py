"""Kata: a gradient monitor that logs pre-clip norms, summarises them and plots them."""

from __future__ import annotations

from .._kata import Kata


def _oracle() -> dict:
    import torch

    class GradientMonitor:
        def __init__(self):
            self.norms, self.clipped_count, self.total_count, self.max_norm = [], 0, 0, None

        def log(self, model, max_norm):
            grads = [p.grad for p in model.parameters() if p.grad is not None]
            total = float(torch.nn.utils.get_total_norm(grads)) if grads else 0.0
            self.norms.append(total)
            self.total_count += 1
            self.clipped_count += int(total > max_norm)
            self.max_norm = max_norm
            return total

        def summary(self):
            history = torch.tensor(self.norms, dtype=torch.float64)
            return {"total_steps": self.total_count, "clip_rate": self.clipped_count / max(self.total_count, 1),
                    "mean": float(history.mean()) if self.norms else float("nan"),
                    "max": float(history.max()) if self.norms else float("nan")}

        def plot(self):
            from matplotlib.figure import Figure

            fig = Figure()
            ax = fig.add_subplot()
            ax.plot(range(len(self.norms)), self.norms, label="norm")
            ax.axhline(float(torch.tensor(self.norms).double().mean()), label="mean")
            if self.max_norm is not None:  # as the reference: no line before the first log()
                ax.axhline(self.max_norm, label="max_norm")
            return fig

    return {"GradientMonitor": GradientMonitor}


STUB = '''
import matplotlib.pyplot as plt
import numpy as np


class GradientMonitor:
    """Watch the gradient norm during training, to choose and check max_norm.

    Call ``log(model, max_norm)`` once per step, after loss.backward() and
    *before* clipping, so that it sees the raw gradients.

    Attributes:
        norms: the list of logged global gradient norms (Python floats), one
            per step, oldest first.
        clipped_count: how many logged norms were strictly greater than the
            max_norm given with them (those steps get clipped).
        total_count: how many steps were logged.
    Also remember the max_norm of the most recent log() call: plot() draws it
    (parity tier).
    """

    def __init__(self):
        raise NotImplementedError("GradientMonitor.__init__ is not implemented yet")

    def log(self, model, max_norm):
        """Record the global L2 norm of the model's gradients, sqrt(sum of
        ||p.grad||^2) over parameters whose .grad is not None, and count the
        step as clipped if that norm is greater than max_norm. Do not change
        the gradients. Returns the norm as a float."""
        raise NotImplementedError("GradientMonitor.log is not implemented yet")

    def summary(self):
        """Report the statistics: return them as a dict
        {"total_steps": total_count, "clip_rate": clipped_count / total steps
        (a fraction in [0, 1]; 0.0 when nothing was logged), "mean": mean
        norm, "max": largest norm}, or print them one per line, labelled as
        the article does ("Total steps: 3", "Clipping rate: 66.7%",
        "Mean norm: 5.1667", "Max norm: 10.0000"). A clip rate of 5-25% is
        usually healthy. Parity tier: summary() before any log() call must
        not crash (0 steps, clip rate 0)."""
        raise NotImplementedError("GradientMonitor.summary is not implemented yet")

    def plot(self):
        """Draw a matplotlib figure of the norm history: the norms against
        the step index and a horizontal line at their mean. Returning the
        Figure is best (the caller decides what to do with it); plt.show()
        as the article does is observed too. Parity tier: also a horizontal
        line at the most recent max_norm (the clipping threshold)."""
        raise NotImplementedError("GradientMonitor.plot is not implemented yet")
'''

KATA = Kata(
    slug="gradient_monitor",
    title="Monitor gradient norms",
    topic="monitoring",
    summary="Implement class GradientMonitor: log(model, max_norm) records the pre-clip global gradient norm "
    "and counts clipped steps; summary() reports (returns or prints) total steps, clip rate, mean and max; "
    "plot() draws a matplotlib Figure of the history with a mean line (and, for the parity tier, a threshold "
    "line).",
    functions=("GradientMonitor",),
    stub=STUB,
    oracle=_oracle,
)
