"""The kata catalogue: one folder per kata (definition, reference, suite, mistakes), in teaching order."""

from __future__ import annotations

from ._catalogue import SLUGS, all_katas, get
from ._kata import Kata

__all__ = ["Kata", "SLUGS", "all_katas", "get"]
