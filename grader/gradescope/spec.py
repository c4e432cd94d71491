"""Check a results.json against Gradescope's specification (gradescope/autograder_samples, docs/specs.md).

Gradescope silently ignores or rejects malformed fields, so the autograder
checks its own output before writing it.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

TOP_LEVEL = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
             "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_FIELDS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
               "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
STATUS = {"passed", "failed"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def _number(v: Any) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool)


def _test_problems(i: int, t: Any) -> list[str]:
    if not isinstance(t, dict):
        return [f"tests[{i}] is not an object"]
    p = [f"tests[{i}] has unknown field {k!r}" for k in sorted(set(t) - TEST_FIELDS)]
    for key in ("score", "max_score"):
        if key in t and not _number(t[key]):
            p.append(f"tests[{i}].{key} is not a number")
    if "status" in t and t["status"] not in STATUS:
        p.append(f"tests[{i}].status is {t['status']!r}, not passed/failed")
    if "visibility" in t and t["visibility"] not in VISIBILITY:
        p.append(f"tests[{i}].visibility is {t['visibility']!r}")
    for key in ("name", "number", "output"):
        if key in t and not isinstance(t[key], str):
            p.append(f"tests[{i}].{key} is not a string")
    for key in ("name_format", "output_format"):
        if key in t and t[key] not in FORMATS:
            p.append(f"tests[{i}].{key} is {t[key]!r}")
    if "tags" in t and not (isinstance(t["tags"], list) and all(isinstance(x, str) for x in t["tags"])):
        p.append(f"tests[{i}].tags is not a list of strings")
    if "extra_data" in t and not isinstance(t["extra_data"], dict):
        p.append(f"tests[{i}].extra_data is not an object")
    if "score" not in t and "status" not in t:
        p.append(f"tests[{i}] has neither score nor status")
    return p


def validate(results: Any) -> list[str]:
    """The problems with ``results`` as a Gradescope results.json; empty when it conforms."""
    if not isinstance(results, dict):
        return ["results.json is not a JSON object"]
    problems = [f"unknown top-level field {k!r}" for k in sorted(set(results) - TOP_LEVEL)]
    tests = results.get("tests", [])
    if not isinstance(tests, list):
        return problems + ["tests is not a list"]
    if "score" not in results and not all(isinstance(t, dict) and "score" in t for t in tests):
        problems.append("no top-level score and not every test has one")
    if "score" in results and not _number(results["score"]):
        problems.append("score is not a number")
    if "execution_time" in results and not _number(results["execution_time"]):
        problems.append("execution_time is not a number")
    if "output" in results and not isinstance(results["output"], str):
        problems.append("output is not a string")
    for key in ("visibility", "stdout_visibility"):
        if key in results and results[key] not in VISIBILITY:
            problems.append(f"{key} is {results[key]!r}")
    for key in ("output_format", "test_output_format", "test_name_format"):
        if key in results and results[key] not in FORMATS:
            problems.append(f"{key} is {results[key]!r}")
    if "extra_data" in results and not isinstance(results["extra_data"], dict):
        problems.append("extra_data is not an object")
    if "leaderboard" in results and not isinstance(results["leaderboard"], list):
        problems.append("leaderboard is not a list")
    for i, t in enumerate(tests):
        problems += _test_problems(i, t)
    return problems
