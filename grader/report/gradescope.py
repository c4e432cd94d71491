"""Gradescope's results.json (gradescope/autograder_samples, docs/specs.md)."""

from __future__ import annotations

from typing import Any

from ..results import KataResult, Status, SubmissionResult

MAX_TEST_OUTPUT = 4000


def _truncate(text: str, limit: int = MAX_TEST_OUTPUT) -> str:
    return text if len(text) <= limit else text[:limit] + "\n[truncated]"


def _kata_tests(k: KataResult, visibility: str) -> list[dict[str, Any]]:
    lead = "".join(f"Mistake: {d.title} ({d.mistake})\n{d.message}\n\n" for d in k.diagnoses)
    if not k.checks or k.status in (Status.NOT_ATTEMPTED,):
        return [{"name": f"{k.slug}", "score": 0.0, "max_score": k.max_score, "status": "failed",
                 "output": _truncate(lead + (k.reason or k.status.value)), "tags": [k.slug],
                 "visibility": "visible"}]
    tests = []
    for c in k.checks:
        passed = c.status is Status.PASSED and k.status is not Status.ERROR
        output = c.message  # a passing check's message is its advice (performance tier), if any
        if not passed and k.reason:
            output = f"{k.reason}\n{output}".strip()
        if not passed and lead:
            output = lead + output
        tests.append({"name": f"{k.slug}: {c.name}", "score": c.score if passed else 0.0,
                      "max_score": c.max_score, "status": "passed" if passed else "failed",
                      "output": _truncate(output), "tags": [k.slug],
                      "visibility": "visible" if c.visible else visibility})
    return tests


def results_json(result: SubmissionResult, hidden_visibility: str = "visible") -> dict[str, Any]:
    """The results.json object; ``hidden_visibility`` applies to the hidden tests
    (Gradescope: visible, hidden, after_due_date or after_published)."""
    tests = [t for k in result.katas for t in _kata_tests(k, hidden_visibility)]
    summary = "\n".join(f"{k.slug}: {k.score:g}/{k.max_score:g} {k.status.value}"
                        + (f" ({k.reason})" if k.reason else "") for k in result.katas)
    return {
        "score": round(sum(t["score"] for t in tests), 6),
        "execution_time": round(result.elapsed_s, 3),
        "output": summary,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "grader_version": result.grader_version,
            "seed": result.seed,
            "sandbox": result.sandbox,
            "diagnoses": [{"kata": d.kata, "mistake": d.mistake, "message": d.message} for d in result.diagnoses],
        },
    }
