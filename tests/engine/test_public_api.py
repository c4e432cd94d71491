"""The public face: what `import gradkata` offers, and the one exception tree."""

from __future__ import annotations

import inspect

import pytest

import gradkata
from gradkata import _errors
from gradkata.runner import _message
from gradkata.results import Status

# The curated public API: adding or removing a name is a decision, made here.
EXPORTED = {
    "__version__", "grade", "GradingSettings", "all_katas", "Kata", "CheckResult", "Diagnosis", "KataResult",
    "Status", "SubmissionResult", "GradkataError", "UsageError", "WorkerStartError", "SandboxUnavailable",
    "WorkerFault", "SubmissionError", "WorkerDied", "SuiteSignal", "GraderBug",
}


def test_all_lists_exactly_the_curated_names():
    assert set(gradkata.__all__) == EXPORTED
    for name in gradkata.__all__:
        assert getattr(gradkata, name) is not None, name


def _error_classes() -> list[type]:
    return [obj for _, obj in inspect.getmembers(_errors, inspect.isclass) if obj.__module__ == _errors.__name__]


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
def test_every_error_is_in_the_tree_and_its_drawing(cls):
    assert issubclass(cls, gradkata.GradkataError)
    assert cls.__name__ in (_errors.__doc__ or ""), f"add {cls.__name__} to the tree in _errors' docstring"
    assert getattr(gradkata, cls.__name__) is cls, f"export {cls.__name__} from gradkata"


def test_suite_signals_are_one_family():
    from gradkata.judge import CandidateRaised, Delegated
    from gradkata.suitekit import Mismatch

    for cls in (Mismatch, CandidateRaised, Delegated):
        assert issubclass(cls, gradkata.SuiteSignal)
        assert cls.__name__ in (_errors.__doc__ or "")


def test_a_grader_bug_is_the_graders_error_and_a_mismatch_the_students_failure():
    from gradkata.suitekit import Mismatch, sanity

    with pytest.raises(gradkata.GraderBug) as bug:
        sanity(False, "the reference disagrees with torch")
    assert _message(bug.value) == (Status.ERROR, "grader bug: the reference disagrees with torch")
    # The older spelling, a plain assert whose text says so, reads the same.
    assert _message(AssertionError("grader bug: x"))[0] is Status.ERROR
    assert _message(Mismatch("Called f(x). Returned 1, expected 2."))[0] is Status.FAILED
    sanity(True, "never raised")
