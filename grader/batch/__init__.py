"""`gradkata grade-batch`: grade a course's submissions in parallel into a SQLite gradebook."""

from .gradebook import Gradebook, Row
from .run import BatchSettings, grade_batch

__all__ = ["Gradebook", "Row", "BatchSettings", "grade_batch"]
