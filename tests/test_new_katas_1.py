"""The gradient_check, adaptive_clipper, adaptive_grad_clip and train_step_accumulate katas:
references earn full marks and stubs nothing through the real worker, and every
catalogued mistake loses points on its hidden suite."""

from __future__ import annotations

import pytest

from gradkata.api import grade
from gradkata.katas import get
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.mistakes import catalogue
from gradkata.results import Status
from gradkata.runner import check_functions

SLUGS = ("gradient_check", "adaptive_clipper", "adaptive_grad_clip", "train_step_accumulate")
MUTANTS = [(slug, m.id) for slug in SLUGS for m in catalogue(get(slug))]


def _failures(result) -> str:
    return "; ".join(f"{c.name}: {c.message[:300]}" for c in result.checks if c.score < c.max_score) or result.reason


@pytest.fixture(scope="module")
def graded():
    references, stubs = grade([PROJECT_ROOT / "solutions", PROJECT_ROOT / "exercises"], SLUGS, seed=3, examples=3)
    return {r.slug: r for r in references.katas}, {r.slug: r for r in stubs.katas}


@pytest.mark.parametrize("slug", SLUGS)
def test_exercise_is_the_rendered_stub(slug):
    kata = get(slug)
    assert kata.exercise_path.read_text() == kata.render_stub()


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_reference_earns_full_marks_through_the_worker(graded, slug):
    result = graded[0][slug]
    assert result.max_score > 0
    assert result.score == result.max_score, _failures(result)
    assert result.status is Status.PASSED


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_stub_earns_nothing_and_is_reported_not_implemented(graded, slug):
    result = graded[1][slug]
    assert result.score == 0
    assert result.status is Status.NOT_IMPLEMENTED, _failures(result)


@pytest.mark.parametrize("slug", SLUGS)
def test_at_least_three_mistakes_with_feedback(slug):
    mistakes = catalogue(get(slug))
    assert len(mistakes) >= 3
    for m in mistakes:
        assert m.kata == slug and set(m.mutant) == set(get(slug).functions)
        assert all(len(text) > 20 for text in (m.what, m.symptom, m.why, m.fix))


@pytest.mark.parametrize("slug, mistake_id", MUTANTS)
def test_mutant_loses_points(slug, mistake_id):
    kata = get(slug)
    mistake = next(m for m in catalogue(kata) if m.id == mistake_id)
    checks = check_functions(kata, mistake.mutant, examples=5)
    assert checks
    assert sum(c.score for c in checks) < sum(c.max_score for c in checks), f"{mistake_id} passes its suite"
