"""The usual mistakes in the NumPy clip_by_norm: mutants, feedback and a probe battery."""

from __future__ import annotations

import numpy as np

from gradkata.mistakes import maker

SLUG = "clip_by_norm"


def _norm(g) -> float:
    return float(np.sqrt(np.sum(np.asarray(g, dtype=np.float64) ** 2)))


def always_rescale(g, tau):
    norm = _norm(g)
    out = g * (tau / norm)
    return out, norm, _norm(out)


def modified_input(g, tau):
    norm = _norm(g)
    if norm > tau:
        g *= tau / norm  # scales the caller's array
    return g, norm, _norm(g)


def l1_norm(g, tau):
    norm = float(np.sum(np.abs(g)))
    out = g / max(1.0, norm / tau)
    return out, norm, float(np.sum(np.abs(out)))


def stale_norm_after(g, tau):
    norm = _norm(g)
    out = g / max(1.0, norm / tau)
    return out, norm, norm  # the "after" norm is never recomputed


def inverted(g, tau):
    norm = _norm(g)
    out = g / min(1.0, norm / tau)
    return out, norm, _norm(out)


def spectral_norm(g, tau):
    norm = float(np.linalg.norm(g, 2))  # for a matrix: the largest singular value
    out = g / max(1.0, norm / tau)
    return out, norm, float(np.linalg.norm(out, 2))


def row_norms(g, tau):
    norms = np.linalg.norm(np.atleast_1d(g), axis=-1, keepdims=True)
    out = g / np.maximum(1.0, norms / tau)
    return out, _norm(g), _norm(out)


def max_abs_norm(g, tau):
    norm = float(np.max(np.abs(g))) if np.size(g) else 0.0
    out = g / max(1.0, norm / tau)
    return out, norm, float(np.max(np.abs(out))) if np.size(out) else 0.0


_m = maker(SLUG, "clip_by_norm")


MISTAKES = [
    _m("always-rescale", "Every vector rescaled to length tau", always_rescale,
       "Your code multiplied g by tau / ||g|| whatever its length.",
       "Short vectors are stretched up to length tau, and a zero vector becomes NaN (0 / 0).",
       "Stretching small gradients makes every update the same size, so training cannot settle near a minimum.",
       "Divide by max(1, ||g|| / tau): vectors already inside the ball come back unchanged."),
    _m("modified-input", "The caller's array was modified", modified_input,
       "Your code scaled g in place (g *= ..., g /= ..., or out=g) instead of building a new array.",
       "After the call the caller's g holds the clipped values.",
       "The caller may still need the raw gradient (for logging, or for another optimiser state); changing it "
       "behind their back makes bugs that are hard to trace.",
       "Return a new array: g_clipped = g / max(1.0, norm / tau)."),
    _m("l1-norm", "L1 norm instead of L2", l1_norm,
       "Your code measured the length of g with the sum of absolute values (the L1 norm).",
       "The reported norm is larger than the L2 norm and vectors are clipped too hard.",
       "The threshold no longer means an L2 length; clipping kicks in at the wrong scale and depends on "
       "the number of components.",
       "norm = np.linalg.norm(g) (or np.sqrt(np.sum(g ** 2)))."),
    _m("stale-norm-after", "norm_after is the norm before clipping", stale_norm_after,
       "Your code returned the original norm as norm_after.",
       "norm_after equals norm_before even when g was clipped to length tau.",
       "norm_after is how callers check that clipping worked; a stale value reports unclipped gradients.",
       "Recompute it from the clipped array: np.linalg.norm(g_clipped)."),
    _m("inverted", "Divided by min instead of max", inverted,
       "Your code divided g by min(1, ||g|| / tau).",
       "Long vectors pass unchanged and short ones are stretched to length tau.",
       "Exploding gradients, the reason to clip, go straight through.",
       "g_clipped = g / max(1, ||g|| / tau)."),
    _m("spectral-norm", "Matrix norm instead of the norm of all elements", spectral_norm,
       "Your code called np.linalg.norm(g, 2), which for a matrix is its largest singular value.",
       "For a matrix g the norm is too small, so it is clipped too little; vectors are fine.",
       "The gradient's length is the L2 norm of all its elements together (the Frobenius norm for a matrix).",
       "np.linalg.norm(g) without ord, or np.linalg.norm(g.ravel())."),
    _m("row-norms", "Each row clipped on its own", row_norms,
       "Your code took the norm along the last axis, clipping each row separately.",
       "For a matrix every row is clipped to length tau, so the whole array can be much longer than tau.",
       "Per-row clipping changes the direction of the gradient and does not bound its length.",
       "Use one norm over all elements: np.linalg.norm(g)."),
    _m("max-abs-norm", "Largest component used as the norm", max_abs_norm,
       "Your code used the largest absolute component (the infinity norm) as the length.",
       "The norm is too small, so long vectors are clipped too little.",
       "Only the biggest entry counts, so a vector with many medium entries is never clipped.",
       "norm = np.linalg.norm(g), the L2 norm of all elements."),
]

PROBES = [
    {"g": np.array([3.0, 4.0, 12.0]), "tau": 6.5},
    {"g": np.array([0.3, 0.4]), "tau": 5.0},
    {"g": np.array([3.0, -4.0]), "tau": 1.0},
    {"g": np.array([[3.0, 4.0], [6.0, 8.0]]), "tau": 5.0},
    {"g": np.array([[3.0, 0.0], [0.0, 4.0]]), "tau": 4.5},
    {"g": np.array([0.0, 0.0]), "tau": 1.0},
    {"g": np.array([1.0, 1.0, 1.0, 1.0]), "tau": 1.5},
    {"g": np.array([2.0, -1.0, 2.0]), "tau": 4.0},
]
