"""A submission file is imported once per submission: if that import fails, every kata in
the file gets the same verdict at once, and the other files are graded as usual."""

from __future__ import annotations

import pytest

from gradkata.katas import get
from gradkata.pool import Limits, Zygote
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.results import Status
from gradkata.runner import TOP_LEVEL, grade_sources
from gradkata.settings import GradingSettings

SLEEPER = b"import time\ntime.sleep(1000)\n\ndef clip_by_value(g, c):\n    return g\n"
RAISER = b"raise ValueError('oops')\n"
KATAS = [get(slug) for slug in ("clip_by_value", "clip_by_norm", "clip_grad_value")]


@pytest.fixture(scope="module")
def zygote():
    """One zygote with short limits for both tests (a start costs seconds); each counts its own children."""
    with Zygote(Limits(call_s=2.0, kata_s=10.0, import_s=2.0)) as z:
        yield z


def _grade(zygote: Zygote, sources: dict[str, bytes]):
    before = zygote._count
    results = grade_sources(zygote, KATAS, sources, GradingSettings(seed=1, examples=3))
    return {r.slug: r for r in results}, zygote._count - before


def test_a_sleeping_file_is_imported_once_and_every_kata_in_it_says_why(zygote: Zygote) -> None:
    good = (PROJECT_ROOT / "solutions" / "clip_grad_value.py").read_bytes()
    results, children = _grade(zygote, {"clip_by_value": SLEEPER, "clip_by_norm": SLEEPER, "clip_grad_value": good})
    for slug in ("clip_by_value", "clip_by_norm"):
        assert results[slug].score == 0 and results[slug].status is Status.ERROR
        assert TOP_LEVEL in results[slug].reason and "timeout" in results[slug].reason, results[slug].reason
        assert results[slug].max_score > 0
    assert results["clip_by_value"].reason == results["clip_by_norm"].reason
    assert results["clip_grad_value"].score == results["clip_grad_value"].max_score > 0
    assert children == 2  # the sleeper once, the good file once


def test_a_file_that_raises_on_import_is_imported_once(zygote: Zygote) -> None:
    results, children = _grade(zygote, {slug.slug: RAISER for slug in KATAS})
    assert children == 1
    for result in results.values():
        assert result.score == 0 and "ValueError" in result.reason and TOP_LEVEL not in result.reason
