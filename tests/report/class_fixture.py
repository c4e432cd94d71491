"""A made-up class in a gradebook, for the class report's tests and docs/class_report.png.

Deterministic (a seeded random draw), with the project's real kata slugs and
mistake ids, some named mistakes, failing checks and one regrade that changed
scores for unchanged content.
"""

from __future__ import annotations

import random
from pathlib import Path

from gradkata.batch import Gradebook
from gradkata.katas.index import load
from gradkata.results import CheckResult, Diagnosis, KataResult, Status, SubmissionResult

KATAS = ["clip_grad_norm", "clip_grad_value", "clip_by_norm", "gradient_check"]
CHECKS = ["test_visible_example", "test_matches_torch", "test_returns_pre_clip_norm", "test_none_grads_skipped",
          "test_generator_consumed_once", "test_empty_input"]


def _kata(rng: random.Random, slug: str, mistakes: list[dict], skill: float) -> KataResult:
    checks, diagnoses = [], []
    made = [m for m in mistakes[:4] if rng.random() > skill + 0.15 * mistakes.index(m)]
    for i, name in enumerate(CHECKS):
        # Later checks (edge cases) fail more often, and a named mistake fails one more.
        passed = rng.random() < skill - 0.08 * i and not (made and i == 1 + len(made[0]["id"]) % 5)
        checks.append(CheckResult(slug, name, 3.0 if passed else 0.0, 3.0, Status.PASSED if passed else Status.FAILED,
                                  "" if passed else "differs from torch on a 3-parameter model",
                                  tier="parity" if i >= 4 and slug != "gradient_check" else "interview"))
    for m in made[:2]:
        diagnoses.append(Diagnosis(slug, m["id"], m["title"], m["feedback"]))
    score = sum(c.score for c in checks)
    status = Status.PASSED if score == 18.0 else Status.FAILED
    return KataResult(slug, score, 18.0, status, checks=checks, diagnoses=diagnoses)


def make_class_gradebook(path: Path, students: int = 36) -> Path:
    rng = random.Random(20261202)
    catalogue = {k["slug"]: k["mistakes"] for k in load()}
    with Gradebook(path) as book:
        book.save_settings({"seed": 7, "examples": 10, "katas": KATAS, "call_s": None})
        for n in range(students):
            skill = rng.uniform(0.35, 1.05)
            katas = [_kata(rng, slug, catalogue[slug], skill) for slug in KATAS]
            name = f"student{n:02d}"
            book.record(name, f"hash{n}", SubmissionResult(name, katas, 7, "0.1.0+aaaa"), examples=10, katas=KATAS)
        # A regrade after a grader fix: three unchanged submissions get a new score, one changed one too.
        for n in (3, 8, 21):
            old = book.row(f"student{n:02d}")
            assert old is not None
            katas = list(old.result.katas)
            fixed = katas[0]
            new = fixed.score - 3.0 if fixed.score >= 3.0 else fixed.score + 3.0  # always a change
            katas[0] = KataResult(fixed.slug, new, 18.0, fixed.status, checks=fixed.checks)
            book.record(old.student, old.content_hash, SubmissionResult(old.student, katas, 7, "0.1.0+bbbb"),
                        examples=10, katas=KATAS)
        edited = book.row("student05")
        assert edited is not None
        book.record("student05", "hash5-edited", SubmissionResult("student05", edited.result.katas[:3] + [
            KataResult("gradient_check", 18.0, 18.0, Status.PASSED)], 7, "0.1.0+bbbb"), examples=10, katas=KATAS)
    return path
