"""The threshold finder, gradient monitor, RNN loop and AMP step katas: the references earn full marks
and the stubs nothing through the real worker, and every catalogued mistake loses credit."""

from __future__ import annotations

import pytest

from gradkata.api import grade
from gradkata.katas import get
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.mistakes import catalogue
from gradkata.results import Status
from gradkata.runner import check_functions

SLUGS = ("find_clipping_threshold", "gradient_monitor", "train_rnn_with_clipping", "train_step_amp")
EXAMPLES = 3


@pytest.fixture(scope="module")
def graded():
    solutions, stubs = grade([PROJECT_ROOT / "solutions", PROJECT_ROOT / "exercises"], SLUGS, seed=7,
                             examples=EXAMPLES)
    return {"solutions": {k.slug: k for k in solutions.katas}, "exercises": {k.slug: k for k in stubs.katas}}


@pytest.mark.parametrize("slug", SLUGS)
def test_reference_earns_full_marks_in_the_worker(graded, slug):
    result = graded["solutions"][slug]
    failed = [(c.name, c.message) for c in result.checks if c.score < c.max_score]
    assert result.max_score > 0 and result.score == result.max_score, failed or result.reason


@pytest.mark.parametrize("slug", SLUGS)
def test_stub_earns_nothing(graded, slug):
    result = graded["exercises"][slug]
    assert result.score == 0 and result.status is Status.NOT_IMPLEMENTED, result.reason


@pytest.mark.parametrize("slug", SLUGS)
def test_exercise_file_is_the_rendered_stub(slug):
    kata = get(slug)
    assert kata.exercise_path.read_text() == kata.render_stub()


@pytest.mark.parametrize("slug", SLUGS)
def test_at_least_three_mistakes(slug):
    mistakes = catalogue(get(slug))
    assert len(mistakes) >= 3
    assert all(m.kata == slug and set(m.mutant) == set(get(slug).functions) for m in mistakes)


@pytest.mark.slow
@pytest.mark.parametrize("mistake", [m for slug in SLUGS for m in catalogue(get(slug))], ids=lambda m: m.id)
def test_every_mistake_loses_credit(mistake):
    checks = check_functions(get(mistake.kata), mistake.mutant, examples=EXAMPLES)
    assert checks and sum(c.score for c in checks) < sum(c.max_score for c in checks)
