"""gradkata: katas and a sandboxed autograder for gradient clipping.

Public API::

    from gradkata import GradingSettings, grade, all_katas
    [result] = grade([Path("exercises")], settings=GradingSettings(seed=1))
    print(result.score, result.max_score)
"""

from __future__ import annotations

from ._errors import (GraderBug, GradkataError, SandboxUnavailable, SubmissionError, SuiteSignal, UsageError,
                      WorkerDied, WorkerFault, WorkerStartError)
from ._version import __version__
from .katas import Kata, all_katas
from .results import CheckResult, Diagnosis, KataResult, Status, SubmissionResult
from .settings import GradingSettings

__all__ = [
    "__version__", "grade", "GradingSettings", "all_katas", "Kata", "CheckResult", "Diagnosis", "KataResult",
    "Status", "SubmissionResult", "GradkataError", "UsageError", "WorkerStartError", "SandboxUnavailable",
    "WorkerFault", "SubmissionError", "WorkerDied", "SuiteSignal", "GraderBug",
]


def __getattr__(name: str):
    # `grade` pulls in pytest, Hypothesis and the suites (most of a second);
    # commands that never grade here (grade-batch's parent, list, mistakes) need not pay for it.
    if name == "grade":
        from .api import grade

        return grade
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
