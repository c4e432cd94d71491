"""Trusted functions (mutants, held-out variants) through a kata's hidden suite and diagnosis.

The tests and `benchmarks/confusion_matrix.py` grade catalogue mutants this way:
in this process, with no sandbox, exactly as a submission's observations would be judged.
"""

from __future__ import annotations

from typing import Callable

from .diagnose import diagnose_functions, failed
from .judge import Call, CandidateRaised, LocalJudge
from .katas import Kata
from .mistakes import Mistake
from .results import CheckResult
from .runner import run_suites
from .settings import GradingSettings

SWEEP = GradingSettings(seed=1, examples=10)


class _RecordingJudge(LocalJudge):
    """A LocalJudge that also logs the calls that raised, as the worker's judge does."""

    def candidate(self, scenario: dict) -> dict:
        try:
            return super().candidate(scenario)
        except CandidateRaised as exc:
            if len(self.calls) < self.max_log:
                self.calls.append(Call(scenario, {"ok": False, "error": exc.error}))
            raise


def run_and_diagnose(kata: Kata, funcs: dict[str, Callable], settings: GradingSettings = SWEEP, *,
                     source: str | None = None) -> tuple[list[CheckResult], list[Mistake]]:
    """Trusted functions through the kata's hidden suite, then diagnosed from the
    suite's calls and the probe battery, as a submission would be."""
    judge = _RecordingJudge(kata, funcs)
    checks = run_suites({kata.slug: judge}, [kata], settings).get(kata.slug, [])
    if not failed(checks):
        return checks, []
    return checks, diagnose_functions(kata, funcs, source, judge.calls)
