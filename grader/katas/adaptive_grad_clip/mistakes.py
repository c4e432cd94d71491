"""The usual mistakes in adaptive gradient clipping (AGC): mutants, feedback, probes."""

from __future__ import annotations

import numpy as np
import torch

from gradkata.mistakes import maker
from gradkata.katas.adaptive_grad_clip.driver import Scenario
from gradkata.worker.shapes import Param

SLUG = "adaptive_grad_clip"


def _units(x: torch.Tensor) -> torch.Tensor:
    """Unit-wise norms shaped for broadcasting (keepdim), as timm does."""
    if x.ndim <= 1:
        return torch.linalg.vector_norm(x)
    return torch.linalg.vector_norm(x, dim=tuple(range(1, x.ndim)), keepdim=True)


def _dim1(x: torch.Tensor) -> torch.Tensor:
    # Right for a Linear weight (2-D); on a conv weight each (filter, spatial position) is its own "unit".
    return torch.linalg.vector_norm(x, dim=1, keepdim=True) if x.ndim > 1 else torch.linalg.vector_norm(x)


def _whole(x: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(x)


def _columns(x: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(x, dim=0, keepdim=True) if x.ndim > 1 else torch.linalg.vector_norm(x)


def _agc(parameters, clip_factor, eps, *, norm=_units, floor=True, added=False, always=False):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    for p in parameters:
        if p.grad is None:
            continue
        w, g = p.detach(), p.grad.detach()
        w_norm = norm(w)
        if added:
            w_norm = w_norm + eps
        elif floor:
            w_norm = w_norm.clamp(min=eps)
        limit = clip_factor * w_norm
        g_norm = norm(g)
        scaled = g * (limit / g_norm.clamp(min=1e-6))
        g.copy_(scaled if always else torch.where(g_norm < limit, g, scaled))


def per_tensor_norm(parameters, clip_factor=0.01, eps=1e-3):
    _agc(parameters, clip_factor, eps, norm=_whole)


def no_eps_floor(parameters, clip_factor=0.01, eps=1e-3):
    _agc(parameters, clip_factor, eps, floor=False)


def clips_always(parameters, clip_factor=0.01, eps=1e-3):
    _agc(parameters, clip_factor, eps, always=True)


def column_units(parameters, clip_factor=0.01, eps=1e-3):
    _agc(parameters, clip_factor, eps, norm=_columns)


def dim1_units(parameters, clip_factor=0.01, eps=1e-3):
    _agc(parameters, clip_factor, eps, norm=_dim1)


def eps_added(parameters, clip_factor=0.01, eps=1e-3):
    _agc(parameters, clip_factor, eps, added=True)


_m = maker(SLUG, "adaptive_grad_clip")


MISTAKES = [
    _m("per-tensor-norm", "Whole-tensor norms instead of unit-wise", per_tensor_norm,
       "Your code compared the norm of each whole gradient tensor with the norm of the whole weight tensor.",
       "A row whose gradient is huge relative to its own weights passes when the tensor as a whole is within "
       "the limit, and rows that were fine are shrunk along with a bad one.",
       "AGC's point is a per-unit trust ratio: one unit with tiny weights and a large gradient can blow up "
       "while its neighbours hide it; whole-tensor clipping is almost plain norm clipping.",
       "Take norms per output row / filter: over every dimension except 0 (keepdim=True), and over the whole "
       "tensor only for 0- or 1-dimensional parameters."),
    _m("no-eps-floor", "Weight norms without the eps floor", no_eps_floor,
       "Your code used ||W_i|| directly instead of max(||W_i||, eps).",
       "Units whose weights are zero get a limit of 0, so their gradient is wiped out (multiplied by 0).",
       "Zero-initialised biases and units could then never start learning.",
       "Use clip_factor * max(||W_i||, eps), e.g. w_norm.clamp(min=eps)."),
    _m("clips-always", "Every unit rescaled to the limit", clips_always,
       "Your code scaled every unit's gradient to clip_factor * max(||W_i||, eps), also those below it.",
       "Small gradients are blown up to the limit instead of being left alone.",
       "Every update gets the same relative size, so the optimiser cannot take small steps near a minimum.",
       "Scale only the units with ||G_i|| >= limit_i; keep the others (torch.where(g_norm < limit, g, scaled))."),
    _m("column-units", "Norms over input columns", column_units,
       "Your code took the weight and gradient norms over dimension 0 (one per input column) instead of over "
       "the other dimensions (one per output row).",
       "The wrong slices are compared: a row far over its limit is clipped only as much as its columns allow.",
       "In PyTorch a Linear weight is (out_features, in_features): a unit, whose weights feed one output, is "
       "a row. Clipping columns mixes units.",
       "Reduce over dims 1..ndim-1 with keepdim=True: torch.linalg.vector_norm(x, dim=tuple(range(1, x.ndim)), "
       "keepdim=True)."),
    _m("unit-over-dim-1", "Unit norms over dimension 1 only", dim1_units,
       "Your code took the unit norms with vector_norm(x, dim=1, keepdim=True), which is right for a Linear "
       "weight but, on a 3-D or 4-D weight, gives one norm per (filter, position) slice.",
       "Conv weights are clipped slice by slice: a filter whose gradient is over its limit as a whole is left "
       "alone where each slice is under, and one bad slice is cut while the rest of the filter stays.",
       "Parity tier: AGC's unit is an output filter, all of it (NFNets clip conv layers); per-slice ratios "
       "are a different, noisier rule.",
       "Reduce over every dimension but 0: dim=tuple(range(1, x.ndim)), keepdim=True."),
    _m("eps-added", "eps added to the weight norm", eps_added,
       "Your code used ||W_i|| + eps instead of max(||W_i||, eps).",
       "Every limit is slightly too large (by clip_factor * eps), so clipped gradients come out a little long.",
       "The difference is small, but AGC is defined with the maximum, and results drift from timm's.",
       "Use the maximum: w_norm.clamp(min=eps)."),
]


def _probe(params, clip_factor=None, eps=None) -> Scenario:
    ps: list[Param] = [{"value": np.asarray(w, dtype=np.float64), "grad": np.asarray(g, dtype=np.float64)} for w, g in params]
    return {"params": ps, "order": list(range(len(ps))), "container": "list", "clip_factor": clip_factor,
            "eps": eps, "positional": False}


# Rows over and under their limits (per-tensor, columns, always), zero weights
# (the floor) and unit weight norms near 1 (eps added shows at eps = 0.1).
PROBES = [
    _probe([([[3.0, 4.0], [0.0, 0.0]], [[0.3, 0.4], [0.001, 0.0]]), ([1.0, 0.0], [0.001, 0.002])]),
    _probe([([[1.0, 0.0, 0.0], [0.0, 100.0, 0.0]], [[1.0, 1.0, 0.0], [0.0, 0.05, 0.0]])], clip_factor=0.1),
    _probe([([[1.0, 2.0, 2.0], [10.0, 0.0, 0.0]], [[0.9, 0.0, 0.0], [0.0, 0.0, 0.5]])], clip_factor=0.1),
    _probe([(np.zeros(3), [0.5, -0.5, 0.1]), ([[0.6, 0.8]], [[2.0, 0.0]])], clip_factor=0.5, eps=0.1),
    _probe([([[2.0, 0.0], [0.0, 3.0]], [[0.001, 0.002], [0.003, -0.001]])]),
    _probe([([[[1.0, 0.0], [0.0, 1.0]], [[2.0, 2.0], [0.0, 0.0]]],
              [[[0.5, 0.0], [0.0, 0.001]], [[0.001, 0.0], [0.0, 0.9]]])], clip_factor=0.1),
]
