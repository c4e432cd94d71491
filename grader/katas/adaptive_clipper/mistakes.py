"""The usual mistakes in an adaptive (percentile) clipper: mutants, feedback, probes."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import torch

from gradkata.katas._clipper_runs import scenario
from gradkata.mistakes import maker
from gradkata.katas.adaptive_clipper.driver import Scenario

SLUG = "adaptive_clipper"


def _norm(model) -> float:
    return math.sqrt(sum(float(p.grad.detach().double().pow(2).sum()) for p in model.parameters()
                         if p.grad is not None))


def _clip(model, max_norm) -> None:
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.grad is not None], max_norm)


class _Base:
    """A correct clipper; each mutant overrides one piece."""

    def __init__(self, percentile=90, warmup_steps=100, history_size=10_000):
        self.percentile, self.warmup_steps = percentile, warmup_steps
        self.history: deque[float] = deque(maxlen=history_size)
        self.step = 0

    def in_warmup(self) -> bool:
        return self.step < self.warmup_steps

    def threshold(self) -> float:
        return float(np.percentile(list(self.history), self.percentile))

    def clip(self, model):
        total = _norm(model)
        self.history.append(total)
        self.step += 1
        max_norm = 1.0 if self.in_warmup() else self.threshold()
        _clip(model, max_norm)
        return total, max_norm


class RecordsPostClipNorm(_Base):
    def clip(self, model):
        total = _norm(model)
        self.history.append(total)
        self.step += 1
        max_norm = 1.0 if self.in_warmup() else self.threshold()
        _clip(model, max_norm)
        self.history[-1] = _norm(model)  # the norm after clipping goes into the history
        return total, max_norm


class PercentileBeforeAppend(_Base):
    def clip(self, model):
        total = _norm(model)
        self.step += 1
        max_norm = 1.0 if self.in_warmup() else self.threshold()  # history lacks the current norm
        self.history.append(total)
        _clip(model, max_norm)
        return total, max_norm


class NoClipDuringWarmup(_Base):
    def clip(self, model):
        total = _norm(model)
        self.history.append(total)
        self.step += 1
        if self.in_warmup():
            return total, 1.0  # reports the warmup threshold but never applies it
        max_norm = self.threshold()
        _clip(model, max_norm)
        return total, max_norm


class WarmupOffByOne(_Base):
    def in_warmup(self) -> bool:
        return self.step <= self.warmup_steps


class UnboundedHistory(_Base):
    def __init__(self, percentile=90, warmup_steps=100, history_size=10_000):
        super().__init__(percentile, warmup_steps, None)  # history_size accepted, then ignored


class NoHistorySize(_Base):
    # The article's constructor: no history_size parameter at all.
    def __init__(self, percentile=90, warmup_steps=100):
        super().__init__(percentile, warmup_steps, None)


class PercentileAsFraction(_Base):
    def threshold(self) -> float:
        return float(np.percentile(list(self.history), self.percentile / 100))  # 0.9th percentile, not 90th


_m = maker(SLUG, "AdaptiveGradientClipper")


MISTAKES = [
    _m("records-post-clip-norm", "The history records clipped norms", RecordsPostClipNorm,
       "Your clipper stored the gradient norm measured after clipping in its history.",
       "Clipped norms are never above the threshold, so after warmup the percentile is computed from values "
       "capped at 1.0 (and later at itself) and max_norm drifts down.",
       "The threshold ratchets towards zero: every step gets clipped harder than the statistics of the run "
       "justify, which silently shrinks the learning rate.",
       "Append the norm computed before clipping (the one you return)."),
    _m("percentile-before-append", "Percentile taken before the current norm is recorded",
       PercentileBeforeAppend,
       "Your clipper computed the percentile of the history before appending the current norm.",
       "Every threshold lags one step behind the seed's rule; with warmup_steps 0 or 1 the first percentile is "
       "taken of an empty history and fails.",
       "A sudden spike is judged only against past norms, so it is clipped harder than the rule intends, and "
       "an empty history crashes the first step.",
       "Append first, then compute np.percentile(history, percentile)."),
    _m("no-clip-during-warmup", "Gradients not clipped during warmup", NoClipDuringWarmup,
       "Your clipper returned max_norm = 1.0 during warmup but did not clip the gradients.",
       "During the first warmup_steps - 1 calls gradients with a norm above 1 reach the optimizer unchanged.",
       "The start of training is when gradients are largest and least predictable; that is what the fixed "
       "warmup threshold is for.",
       "Clip with max_norm = 1.0 during warmup too: choose the threshold, then always clip with it."),
    _m("warmup-off-by-one", "Warmup one step too long", WarmupOffByOne,
       "Your clipper used the warmup threshold while step <= warmup_steps (or tested before counting the step).",
       "Call number warmup_steps still returns 1.0 where the seed's rule (step incremented, then "
       "step < warmup_steps) switches to the percentile.",
       "Off-by-one rules make two implementations of the same recipe disagree, and runs stop being "
       "reproducible across code bases.",
       "Append, increment self.step, then use 1.0 only while self.step < self.warmup_steps."),
    _m("unbounded-history", "history_size ignored", UnboundedHistory,
       "Your clipper kept every norm in a list and ignored history_size.",
       "With a small history_size, old norms (an early spike) still set the threshold long after they should "
       "have been forgotten.",
       "In a long run the list grows by one number per step forever, and each percentile sorts all of it: "
       "memory and time grow without bound.",
       "Store the norms in collections.deque(maxlen=history_size)."),
    _m("no-history-size", "No history_size: the history grows forever", NoHistorySize,
       "Your clipper's constructor takes (percentile, warmup_steps) only, as the article's does, and keeps "
       "every norm in a list.",
       "AdaptiveGradientClipper(..., history_size=3) raises TypeError (unexpected keyword argument), and "
       "the history holds one number per step for the whole run.",
       "Parity tier (production use): a million-step run keeps a million norms and sorts all of them at every "
       "step, so memory and the cost of each clip grow without bound; the interview question does not ask "
       "for a bound.",
       "Add history_size=10_000 to __init__ and store the norms in collections.deque(maxlen=history_size) "
       "(None keeps them all)."),
    _m("percentile-as-fraction", "Percentile passed as a fraction", PercentileAsFraction,
       "Your clipper passed percentile / 100 to np.percentile, which expects 0-100 (np.quantile and "
       "torch.quantile take 0-1).",
       "The threshold is close to the smallest norm seen, so almost every step is clipped hard.",
       "Clipping every update to the smallest norm ever seen slows training to a crawl.",
       "Use np.percentile(history, percentile), or np.quantile(history, percentile / 100)."),
]


def _probe(scales, kwargs, seed=0) -> Scenario:
    return scenario(scales, kwargs, seed=seed)


# Norms well above 1 during warmup (post-clip records and missing warmup
# clipping show), a change at call warmup_steps (off by one), a spike that must
# leave a short window, and warmup 0 (the empty history).
PROBES = [
    _probe([6.0, 0.5, 9.0, 0.3, 4.0, 0.8], {"percentile": 50, "warmup_steps": 3}),
    _probe([10.0, 8.0, 0.3, 0.2, 0.4, 0.3, 0.5], {"percentile": 90, "warmup_steps": 2, "history_size": 3}, 1),
    _probe([5.0, 0.2, 3.0], {"percentile": 75, "warmup_steps": 0}, 2),
    _probe([3.0, 4.0, 0.5, 6.0], {"percentile": 90, "warmup_steps": 4}, 3),
]
