"""`gradkata export`: grades (CSV), feedback (Markdown) and results.json, read from the gradebook."""

from .feedback import feedback_markdown
from .grades import write_csv, write_feedback, write_json

__all__ = ["feedback_markdown", "write_csv", "write_feedback", "write_json"]
