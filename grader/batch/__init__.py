"""`gradkata grade-batch`: grade a course's submissions in parallel into a SQLite gradebook."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .gradebook import Gradebook, Row
    from .run import BatchSettings, grade_batch

__all__ = ["Gradebook", "Row", "BatchSettings", "grade_batch"]


def __getattr__(name: str) -> Any:
    # Lazy: `gradkata list` builds the whole parser, which imports batch.cli and with it
    # this package; the engine (multiprocessing, the worker pool) loads only when a batch runs.
    if name in ("Gradebook", "Row"):
        from . import gradebook

        return getattr(gradebook, name)
    if name in ("BatchSettings", "grade_batch"):
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
