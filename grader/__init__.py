"""gradkata: katas and a sandboxed autograder for gradient clipping.

Public API::

    from grader import grade, all_katas
    [result] = grade([Path("exercises")])
    print(result.score, result.max_score)
"""

from __future__ import annotations

__version__ = "0.1.0"

from ._errors import (GradkataError, SandboxUnavailable, SubmissionError, UsageError, WorkerDied, WorkerFault,
                      WorkerStartError)
from .api import grade
from .katas import Kata, all_katas
from .results import CheckResult, Diagnosis, KataResult, Status, SubmissionResult

__all__ = [
    "__version__", "grade", "all_katas", "Kata", "CheckResult", "Diagnosis", "KataResult", "Status",
    "SubmissionResult", "GradkataError", "UsageError", "WorkerStartError", "SandboxUnavailable", "WorkerFault",
    "SubmissionError", "WorkerDied",
]
