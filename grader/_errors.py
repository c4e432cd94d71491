"""gradkata's exceptions. Catch :class:`GradkataError` for any of them."""

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
