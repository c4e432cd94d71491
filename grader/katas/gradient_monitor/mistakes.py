"""The usual mistakes in GradientMonitor: mutants and feedback.

Each mutant is a correct monitor with one method changed, written the way a
student would write it. They run only in the trusted process.
"""

from __future__ import annotations

import torch

from gradkata.mistakes import maker

from .scenarios import scenario

SLUG = "gradient_monitor"


class _Monitor:
    """A correct monitor the mutants start from."""

    def __init__(self):
        self.norms, self.clipped_count, self.total_count, self.max_norm = [], 0, 0, None

    def _norm(self, model) -> float:
        return sum(float(p.grad.double().pow(2).sum()) for p in model.parameters() if p.grad is not None) ** 0.5

    def _clipped(self, norm: float, max_norm: float) -> bool:
        return norm > max_norm

    def log(self, model, max_norm):
        norm = self._norm(model)
        self.norms.append(norm)
        self.total_count += 1
        self.clipped_count += int(self._clipped(norm, max_norm))
        self.max_norm = max_norm
        return norm

    def _rate(self) -> float:
        return self.clipped_count / max(self.total_count, 1)

    def summary(self):
        n = len(self.norms)
        return {"total_steps": self.total_count, "clip_rate": self._rate(),
                "mean": sum(self.norms) / n if n else float("nan"), "max": max(self.norms, default=float("nan"))}

    def _lines(self, ax) -> None:
        ax.axhline(sum(self.norms) / len(self.norms))
        ax.axhline(self.max_norm)

    def plot(self):
        from matplotlib.figure import Figure

        fig = Figure()
        ax = fig.add_subplot()
        ax.plot(self.norms)
        self._lines(ax)
        return fig


class CountsAtThreshold(_Monitor):
    def _clipped(self, norm, max_norm):
        return norm >= max_norm


class LogsAfterClipping(_Monitor):
    def log(self, model, max_norm):
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        return super().log(model, max_norm)


class ClipRateInPercent(_Monitor):
    def _rate(self):
        return 100.0 * self.clipped_count / max(self.total_count, 1)


class EmptySummaryCrashes(_Monitor):
    def _rate(self):
        return self.clipped_count / self.total_count


class PlotWithoutThreshold(_Monitor):
    def _lines(self, ax):
        ax.axhline(sum(self.norms) / len(self.norms))


_m = maker(SLUG, "GradientMonitor")


MISTAKES = [
    _m("counts-at-threshold", "A norm equal to max_norm counted as clipped", CountsAtThreshold,
       "Your log counted a step as clipped when its norm was greater than or equal to max_norm.",
       "Steps whose norm is exactly max_norm raise clipped_count and the clip rate.",
       "clip_grad_norm_ leaves such a gradient as it is, so the reported clip rate overstates how often "
       "clipping acts.",
       "Count a step only when norm > max_norm."),
    _m("logs-after-clipping", "The monitor clipped before measuring", LogsAfterClipping,
       "Your log clipped the gradients and then measured them.",
       "Logged norms never exceed max_norm, the gradients are modified by logging, and no step looks clipped.",
       "The monitor is there to see how large the raw gradients get; after clipping it only ever sees "
       "max_norm, so exploding gradients go unnoticed.",
       "Only read p.grad in log; call it after loss.backward() and before clip_grad_norm_."),
    _m("clip-rate-in-percent", "The clip rate was returned as a percentage", ClipRateInPercent,
       "Your summary returned clipped_count / total_count * 100.",
       "clip_rate comes back 100 times too large (e.g. 66.7 instead of 0.667).",
       "Code comparing the rate with fractions such as 0.05 or 0.5 draws the wrong conclusions.",
       "Return the fraction; format it as a percentage only when printing (f'{rate:.1%}')."),
    _m("empty-summary-crashes", "summary() crashes before any step", EmptySummaryCrashes,
       "Your summary has no guard for an empty history: it divides by total_count, or takes the max of no "
       "norms (the article's np.array(self.norms).max()).",
       "summary() raises (ZeroDivisionError, or ValueError: zero-size array to reduction operation maximum) "
       "when nothing has been logged yet.",
       "Parity tier: a summary called at the start of training, or after a loop that broke at once, crashes "
       "the run instead of reporting zero steps.",
       "Divide by max(total_count, 1) and report the mean and max only when self.norms is not empty "
       "(e.g. float('nan') otherwise)."),
    _m("plot-without-threshold", "The plot has no threshold line", PlotWithoutThreshold,
       "Your plot drew the norms and their mean but not the clipping threshold.",
       "The returned figure has no horizontal line at max_norm.",
       "Parity tier: without the threshold you cannot see how often, and by how much, the norm crosses it "
       "(the article's plot has no such line, nor does its monitor remember max_norm).",
       "Remember the last max_norm in log and draw ax.axhline(max_norm) in plot."),
]

# Where the observation came from (a returned dict or the printed lines, a
# returned or a shown figure), the printed precision, and the raw summary and
# figure facts (labels, colours, digits) are no evidence of a mistake: the
# diagnosis compares summary_view (three significant digits) and plot_view
# (which of the expected lines the figure has).
IGNORE_KEYS = ("summary_from", "plot_from", "printed_resolution", "summary", "plot")

PROBES = [
    scenario([[[3.0, 4.0]], [[0.3, 0.4]], [[6.0, 8.0]]], 1.0, then="summary"),
    scenario([[[3.0, 4.0]], [[0.3, 0.4]], [[6.0, 8.0]]], 1.0, then="plot"),
    scenario([[[3.0, 4.0]], [[6.0, 8.0]]], [5.0, 10.0], then="summary"),
    scenario([], 1.0, then="summary"),
    scenario([], 5.0, then="summary"),
    scenario([[[1.0, 2.0]], [[0.1, 0.1]]], 0.5, then="plot"),
    scenario([[[3.0, 4.0], [1.0]], [[6.0, 8.0], None]], [2.0, 7.0], then="plot"),
]
