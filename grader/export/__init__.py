"""`gradkata export`: grades (CSV), feedback (Markdown), results.json and Canvas's import CSV, from the gradebook."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .feedback import feedback_markdown
    from .grades import write_csv, write_feedback, write_json

__all__ = ["feedback_markdown", "write_csv", "write_feedback", "write_json"]


def __getattr__(name: str) -> Any:
    # Lazy, like gradkata.batch: building the command-line parser imports export.cli.
    if name == "feedback_markdown":
        from .feedback import feedback_markdown

        return feedback_markdown
    if name in ("write_csv", "write_feedback", "write_json"):
        from . import grades

        return getattr(grades, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
