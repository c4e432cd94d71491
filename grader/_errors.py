"""gradkata's exceptions, in one tree. Catch :class:`GradkataError` for any of them.

::

    GradkataError
    ├── UsageError            the command or call cannot be graded as given
    ├── SubmissionError       a submission cannot be read
    ├── WorkerStartError      the sandboxed worker cannot start
    │   └── SandboxUnavailable
    ├── WorkerDied            a batch's grading worker stopped early
    ├── WorkerFault           a child timed out, crashed or broke the protocol
    ├── SuiteSignal           inside a hidden suite: a verdict about the candidate
    │   ├── Mismatch          (suitekit) a check failed; the text goes to the student
    │   ├── CandidateRaised   (judge) the submission raised
    │   └── Delegated         (judge) the submission called a built-in it must re-implement
    └── GraderBug             a suite's own sanity check failed: an error, never the student's fault
"""

from __future__ import annotations


class GradkataError(Exception):
    """Base class of every error gradkata raises on purpose."""


class UsageError(GradkataError):
    """The command or call was given something it cannot grade (a missing path, an unknown kata)."""


class WorkerStartError(GradkataError):
    """The sandboxed worker could not be started: the grader itself cannot run."""


class WorkerDied(GradkataError):
    """A batch's grading worker stopped before the batch was done.

    Every result recorded before stays in the gradebook; running the same
    command again grades the rest.
    """


class SandboxUnavailable(WorkerStartError):
    """``--require-sandbox`` was given and a confinement layer is missing."""


class WorkerFault(GradkataError):
    """A child timed out, crashed or broke the protocol; its kata is zeroed.

    ``kind`` is one of ``timeout``, ``kata-timeout``, ``crash``, ``protocol``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class SubmissionError(GradkataError):
    """A submission could not be read (not UTF-8, a malformed notebook, too large)."""


class SuiteSignal(GradkataError):
    """Raised inside a hidden suite's test: it ends the check with a verdict about the candidate."""


class GraderBug(GradkataError, AssertionError):
    """A suite's sanity check failed (say, the reference disagrees with PyTorch).

    The check is reported as an error of the grader, not as the student's
    failure. Suites raise it with :func:`gradkata.suitekit.sanity`; an
    ``AssertionError`` whose text starts with "grader bug" is read the same way.
    """
