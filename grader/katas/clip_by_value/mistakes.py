"""The usual mistakes in the NumPy clip_by_value: mutants, feedback and a probe battery."""

from __future__ import annotations

import numpy as np

from gradkata.mistakes import maker

SLUG = "clip_by_value"


def upper_only(g, c):
    return np.minimum(g, c)


def modified_input(g, c):
    np.clip(g, -c, c, out=g)
    return g


def lower_bound_zero(g, c):
    return np.clip(g, 0, c)


def bounds_swapped(g, c):
    return np.minimum(np.maximum(g, c), -c)


def rescaled_by_max(g, c):
    peak = float(np.max(np.abs(g))) if np.size(g) else 0.0
    return g * (c / peak) if peak > c else np.array(g, copy=True)


def sign_lost(g, c):
    return np.minimum(np.abs(g), c)


_m = maker(SLUG, "clip_by_value")


MISTAKES = [
    _m("upper-bound-only", "Only the upper bound was applied", upper_only,
       "Your code capped components at c (np.minimum) but never raised those below -c.",
       "Large negative components pass unchanged: -10 stays -10 when c is 1.",
       "Negative outliers are as harmful as positive ones; half of the exploding gradients go through.",
       "Clamp both sides: np.clip(g, -c, c)."),
    _m("modified-input", "The caller's array was modified", modified_input,
       "Your code clipped g in place (out=g, or assignments into g) instead of returning a new array.",
       "After the call the caller's g holds the clipped values.",
       "The caller may still need the raw gradient; changing it behind their back makes bugs hard to trace.",
       "Return a new array: np.clip(g, -c, c) without out=."),
    _m("lower-bound-zero", "The lower bound was 0 instead of -c", lower_bound_zero,
       "Your code clipped to [0, c].",
       "Every negative component becomes 0.",
       "Negative gradients carry half of the learning signal; the weights can then only move one way.",
       "The interval is symmetric: np.clip(g, -c, c)."),
    _m("bounds-swapped", "The bounds were swapped", bounds_swapped,
       "Your code used c as the lower bound and -c as the upper bound.",
       "Every component comes back as -c.",
       "The update no longer depends on the loss at all.",
       "np.clip(g, -c, c): the lower bound first."),
    _m("rescaled-by-max", "Rescaled by the largest component", rescaled_by_max,
       "Your code divided g by its largest absolute component instead of clamping each component.",
       "Components already inside [-c, c] shrink too.",
       "This is norm clipping with the infinity norm, not value clipping: small components get lost "
       "whenever one is large.",
       "Clamp each component on its own: np.clip(g, -c, c)."),
    _m("sign-lost", "The sign of the components was lost", sign_lost,
       "Your code clipped the absolute values (np.minimum(np.abs(g), c)) and did not restore the sign.",
       "Negative components come back positive.",
       "The gradient then points the wrong way for every negative component: training goes uphill there.",
       "np.clip(g, -c, c), or np.sign(g) * np.minimum(np.abs(g), c)."),
]

PROBES = [
    {"g": np.array([10.0, 0.1, -0.5, -7.0]), "c": 1.0},
    {"g": np.array([0.3, -0.2]), "c": 1.0},
    {"g": np.array([[3.0, -4.0], [0.5, -0.25]]), "c": 2.0},
    {"g": np.array([-3.0, -0.5]), "c": 1.0},
    {"g": np.array([2.0, 0.5]), "c": 1.0},
]
