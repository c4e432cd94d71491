"""Gradescope's results.json (gradescope/autograder_samples, docs/specs.md)."""

from __future__ import annotations

from typing import Any

from ..results import KataResult, Status, SubmissionResult
from .terminal import tier_line

MAX_TEST_OUTPUT = 4000


def _truncate(text: str, limit: int = MAX_TEST_OUTPUT) -> str:
    return text if len(text) <= limit else text[:limit] + "\n[truncated]"


def _kata_tests(k: KataResult, visibility: str) -> list[dict[str, Any]]:
    lead = "".join(f"{d.label}: {d.title} ({d.mistake})\n{d.message}\n\n" for d in k.diagnoses)
    if not k.checks or k.status in (Status.NOT_ATTEMPTED,):
        return [{"name": f"{k.slug}", "score": 0.0, "max_score": k.max_score, "status": "failed",
                 "output": _truncate(lead + (k.reason or k.status.value)),
                 "tags": [k.slug, *(f"tier:{name}" for name in k.tiers)], "visibility": "visible"}]
    tests = []
    for c in k.checks:
        passed = c.status is Status.PASSED and k.status is not Status.ERROR
        # The course policy's weight: a point in a tier weighted 0.5 is half a point here, and
        # a tier weighted 0 (advice) earns nothing here. A tier without points (performance) is
        # advice, and the summary line says so (terminal.tier_line), never 0/0.
        tier = k.tiers.get(c.tier)
        weight = tier.weight if tier is not None else 1.0
        output = c.message  # a passing check's message is its advice (performance tier), if any
        if not passed and weight == 0:
            output = f"Advice ({c.tier} tier, no points): {output}"
        if not passed and k.reason:
            output = f"{k.reason}\n{output}".strip()
        if not passed and lead:
            output = lead + output
        tests.append({"name": f"{k.slug}: {c.name}", "score": c.score * weight if passed else 0.0,
                      "max_score": c.max_score * weight, "status": "passed" if passed else "failed",
                      "output": _truncate(output), "tags": [k.slug, f"tier:{c.tier}"],
                      "visibility": "visible" if c.visible else visibility})
    return tests


def results_json(result: SubmissionResult, hidden_visibility: str = "visible") -> dict[str, Any]:
    """The results.json object; ``hidden_visibility`` applies to the hidden tests
    (Gradescope: visible, hidden, after_due_date or after_published)."""
    tests = [t for k in result.katas for t in _kata_tests(k, hidden_visibility)]
    summary = "\n".join(f"{k.slug}: {k.score:g}/{k.max_score:g} {k.status.value}"
                        + (f" [{tier_line(k)}]" if k.tiers else "")
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
            "tiers": result.policy,
            "diagnoses": [{"kata": d.kata, "mistake": d.mistake, "message": d.message} for d in result.diagnoses],
        },
    }
