"""The kata catalogue, in teaching order (one folder per kata)."""

from __future__ import annotations

import importlib

from ._kata import Kata

SLUGS = (
    "clip_grad_norm",
    "clip_grad_value",
    "clip_by_norm",
    "clip_by_value",
    "train_step_with_clipping",
    "gradient_check",
    "adaptive_clipper",
    "adaptive_grad_clip",
    "train_step_accumulate",
    "find_clipping_threshold",
    "train_step_amp",
    "gradient_monitor",
    "train_rnn_with_clipping",
    "zclip",
    "clip_grad_norm_distributed",
)


def all_katas() -> list[Kata]:
    return [importlib.import_module(f"{__package__}.{slug}").KATA for slug in SLUGS]


def get(slug: str) -> Kata:
    if slug not in SLUGS:
        from .._errors import UsageError

        raise UsageError(f"unknown kata {slug!r}; `gradkata list` shows the katas ({', '.join(SLUGS)})")
    return importlib.import_module(f"{__package__}.{slug}").KATA

