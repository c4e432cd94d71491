"""Diagnosis never costs the student anything, and never hides a grader bug."""

from __future__ import annotations

import pytest

from gradkata import diagnose
from gradkata._errors import WorkerFault


def _raising(exc: BaseException):
    def fake(judge, checks, source):
        raise exc
    return fake


def test_a_bug_in_diagnosis_is_shown_and_the_scores_stand(monkeypatch, capsys) -> None:
    monkeypatch.setattr(diagnose, "diagnose_judge", _raising(KeyError("units")))
    assert diagnose.diagnose_all({"clip_grad_norm": object()}, {}, {}) == {"clip_grad_norm": []}  # type: ignore[dict-item]
    err = capsys.readouterr().err
    assert "diagnosing clip_grad_norm failed, a grader bug" in err and "KeyError" in err


def test_a_child_that_dies_while_probed_is_no_bug(monkeypatch, capsys) -> None:
    monkeypatch.setattr(diagnose, "diagnose_judge", _raising(WorkerFault("crash", "killed by SIGSEGV")))
    assert diagnose.diagnose_all({"clip_grad_norm": object()}, {}, {}) == {"clip_grad_norm": []}  # type: ignore[dict-item]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(1)])
def test_an_interrupt_is_not_swallowed(monkeypatch, exc: BaseException) -> None:
    monkeypatch.setattr(diagnose, "diagnose_judge", _raising(exc))
    with pytest.raises(type(exc)):
        diagnose.diagnose_all({"clip_grad_norm": object()}, {}, {})  # type: ignore[dict-item]
