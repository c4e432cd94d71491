"""The usual mistakes in a ZClip clipper: mutants, feedback, probes."""

from __future__ import annotations

import math

import numpy as np
import torch

from gradkata.katas._clipper_runs import scenario
from gradkata.mistakes import maker
from gradkata.katas.zclip.driver import Scenario

SLUG = "zclip"
EPS = 1e-6


def _norm(model) -> float:
    return math.sqrt(sum(float(p.grad.detach().double().pow(2).sum()) for p in model.parameters()
                         if p.grad is not None))


class _Base:
    """A correct clipper; each mutant overrides one piece."""

    def __init__(self, alpha=0.97, z_thresh=2.5, max_grad_norm=1.0, warmup_steps=25):
        self.alpha, self.z_thresh = alpha, z_thresh
        self.max_grad_norm, self.warmup_steps = max_grad_norm, warmup_steps
        self.buffer: list[float] = []
        self.mean: float | None = None
        self.var = 0.0

    def ceiling(self) -> float:
        return math.inf if self.max_grad_norm is None else float(self.max_grad_norm)

    def spread(self) -> float:
        return math.sqrt(self.var)

    def threshold(self, g: float) -> float:
        if self.mean is None:
            return self.ceiling()
        std = self.spread()
        if (g - self.mean) / (std + EPS) > self.z_thresh:
            return min(self.mean + self.z_thresh * std, self.ceiling())
        return self.ceiling()

    def start(self) -> None:
        n = len(self.buffer)
        self.mean = sum(self.buffer) / n
        self.var = sum((x - self.mean) ** 2 for x in self.buffer) / n

    def update(self, g: float, used: float) -> None:
        self.mean = self.alpha * self.mean + (1 - self.alpha) * used
        self.var = self.alpha * self.var + (1 - self.alpha) * (used - self.mean) ** 2

    def step(self, model):
        params = [p for p in model.parameters() if p.grad is not None]
        g = _norm(model)
        threshold = self.threshold(g)
        if math.isfinite(threshold):
            torch.nn.utils.clip_grad_norm_(params, threshold)
        used = min(g, threshold)
        if self.mean is None:
            self.buffer.append(g)
            if len(self.buffer) >= self.warmup_steps:
                self.start()
        else:
            self.update(g, used)
        return used


class EmaOfUnclippedNorm(_Base):
    def update(self, g, used):
        super().update(g, g)  # the spike itself goes into the statistics


class ZscoreDuringWarmup(_Base):
    def threshold(self, g):
        if self.mean is None and len(self.buffer) >= 2:
            # statistics of the norms collected so far, used before warm-up ends
            mean = sum(self.buffer) / len(self.buffer)
            std = math.sqrt(sum((x - mean) ** 2 for x in self.buffer) / len(self.buffer))
            if (g - mean) / (std + EPS) > self.z_thresh:
                return min(mean + self.z_thresh * std, self.ceiling())
        return super().threshold(g)


class ThresholdNotCapped(_Base):
    def threshold(self, g):
        if self.mean is None:
            return self.ceiling()
        std = self.spread()
        if (g - self.mean) / (std + EPS) > self.z_thresh:
            return self.mean + self.z_thresh * std  # max_grad_norm forgotten once the z-score starts
        return math.inf


class SecondMomentAsVariance(_Base):
    def update(self, g, used):
        self.mean = self.alpha * self.mean + (1 - self.alpha) * used
        self.var = self.alpha * self.var + (1 - self.alpha) * used ** 2  # E[g^2], not the variance


class VarianceAsStd(_Base):
    def spread(self):
        return self.var  # the variance where the standard deviation belongs


class UnbiasedWarmupVariance(_Base):
    def start(self):
        self.mean = float(np.mean(self.buffer))
        self.var = float(np.var(self.buffer, ddof=1))  # torch.var's default (n - 1)


class EmaFromFirstNorm(_Base):
    calls = 0

    def step(self, model):
        params = [p for p in model.parameters() if p.grad is not None]
        g = _norm(model)
        self.calls += 1
        threshold = self.ceiling() if self.calls <= self.warmup_steps else self.threshold(g)
        if math.isfinite(threshold):
            torch.nn.utils.clip_grad_norm_(params, threshold)
        used = min(g, threshold)
        if self.mean is None:
            self.mean, self.var = g, 0.0  # the first norm seeds the EMA, with zero variance
        else:
            self.update(g, used)  # and the EMA runs through the warm-up
        return used


_m = maker(SLUG, "ZClip")


MISTAKES = [
    _m("ema-of-unclipped-norm", "The EMA is updated with the unclipped norm", EmaOfUnclippedNorm,
       "Your clipper fed the norm measured before clipping into the mean and variance EMAs.",
       "After a spike the mean and the variance jump, so the next spikes are no longer seen as spikes and pass "
       "with far less clipping than ZClip's rule gives.",
       "ZClip updates its statistics with the clipped norm precisely so that one outlier cannot widen the "
       "threshold for the following steps; with the raw norm a burst of spikes disables the clipper.",
       "Update mean and var with used = min(total_norm, threshold), not with total_norm."),
    _m("zscore-during-warmup", "z-score applied before the warm-up ends", ZscoreDuringWarmup,
       "Your clipper computed a z-score (from the norms collected so far) and clipped spikes during warm-up.",
       "During the first warmup_steps calls the threshold differs from max_grad_norm whenever a norm stands out "
       "from the few collected before it.",
       "The warm-up exists because a mean and variance of two or three norms are noise: early training is "
       "clipped by an unreliable statistic.",
       "During warm-up only collect total_norm and clip at max_grad_norm; start the z-score on call "
       "warmup_steps + 1."),
    _m("threshold-not-capped", "Threshold not capped at max_grad_norm", ThresholdNotCapped,
       "Your clipper stopped applying max_grad_norm once the z-score started (the spike threshold "
       "mean + z_thresh * std was not capped, and ordinary steps were not clipped at all).",
       "After warm-up, norms above max_grad_norm reach the optimizer whenever they are not statistical "
       "outliers, and a spike's threshold can exceed max_grad_norm.",
       "A slow drift of the norm upwards is never a spike, so without the ceiling nothing bounds the update "
       "size any more.",
       "threshold = min(mean + z_thresh * std, max_grad_norm) on a spike, max_grad_norm otherwise."),
    _m("second-moment-as-variance", "Variance EMA tracks the squared norm", SecondMomentAsVariance,
       "Your clipper updated var with used ** 2 (the second moment E[g^2]) instead of (used - mean) ** 2.",
       "var grows to about mean ** 2, std to about the mean, so the threshold mean + z_thresh * std sits far "
       "above real spikes and they pass unclipped.",
       "The z-score measures distance from the mean in units of spread; with the second moment the unit is "
       "the mean itself and ZClip stops reacting.",
       "var = alpha * var + (1 - alpha) * (used - mean) ** 2, with the mean just updated."),
    _m("variance-as-std", "Variance used where the standard deviation belongs", VarianceAsStd,
       "Your clipper used var directly as the standard deviation (no square root).",
       "The z-score and the threshold mean + z_thresh * std are wrong whenever var differs from its square "
       "root; the error grows with the scale of the norm.",
       "Norms and their standard deviation share units; the variance has squared units, so the rule depends "
       "on the scale of the loss.",
       "std = math.sqrt(var); z = (total_norm - mean) / (std + 1e-6); threshold = mean + z_thresh * std."),
    _m("unbiased-warmup-variance", "Warm-up variance divided by n - 1", UnbiasedWarmupVariance,
       "Your clipper started var from the sample variance of the warm-up norms (divided by n - 1, as "
       "torch.var and pandas do by default).",
       "Every threshold after warm-up is slightly higher than the rule's, most with a short warm-up.",
       "Two implementations of one recipe should clip the same steps; an n - 1 here shifts which steps are "
       "judged spikes.",
       "Use the population variance: sum((x - mean) ** 2) / n, np.var(x) or torch.var(x, correction=0)."),
    _m("ema-from-first-norm", "No warm-up: the EMA starts from the first norm", EmaFromFirstNorm,
       "Your clipper started the EMA from the first norm (variance 0) and updated it during warm-up instead of "
       "starting it from the mean and variance of the warm-up norms.",
       "The statistics after warm-up differ from the rule's: the first norm weighs far more than the others, "
       "and the variance starts near zero.",
       "An EMA seeded from one early norm with zero variance flags ordinary steps as spikes right after "
       "warm-up.",
       "Collect the first warmup_steps norms in a list; then mean = their mean, var = their population "
       "variance; only then start the EMA."),
]


def _probe(scales, kwargs, seed=0) -> Scenario:
    return scenario(scales, kwargs, seed=seed)


# Spikes after a short warm-up (EMA of the clipped value, second moment, the
# variance as std), a spike during warm-up, a ceiling below the spike threshold
# and ordinary norms above the ceiling.
PROBES = [
    _probe([1.0, 1.2, 0.8, 1.1, 20.0, 1.0, 15.0, 1.1, 0.9, 12.0],
           {"warmup_steps": 4, "max_grad_norm": None, "alpha": 0.9}),
    _probe([1.0, 1.1, 9.0, 1.2, 0.9, 1.0, 1.1], {"warmup_steps": 5, "max_grad_norm": 3.0, "alpha": 0.9}, 1),
    _probe([3.0, 3.5, 2.8, 3.2, 40.0, 3.1, 3.3], {"warmup_steps": 3, "max_grad_norm": 2.0}, 2),
    _probe([10.0, 12.0, 8.0, 11.0, 9.0, 30.0, 10.0, 10.5], {"warmup_steps": 3, "max_grad_norm": 50.0,
                                                              "alpha": 0.8}, 3),
]
