"""The kata catalogue: stubs generated from the definitions, references that earn full
marks, stubs that earn nothing, and suites that torch's own functions pass."""

from __future__ import annotations

import importlib.util
import inspect
import textwrap
from pathlib import Path

import pytest

from gradkata.katas import SLUGS, all_katas, get
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.results import Status
from gradkata.runner import check_functions
from gradkata.settings import GradingSettings

KATAS = all_katas()
IDS = [k.slug for k in KATAS]


def _load(path: Path, name: str):
    """Import one of our own files (a stub, a reference, a wrapper): trusted code only."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_stub_file_is_generated_from_the_definition(kata):
    assert kata.exercise_path.read_text() == kata.render_stub(), (
        f"exercises/{kata.slug}.py drifted from KATA.render_stub(); regenerate it from gradkata/katas/{kata.slug}")


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_reference_signatures_match_the_stub(kata):
    stub = _load(kata.exercise_path, f"_stub_{kata.slug}")
    reference = kata.reference()
    for name in kata.functions:
        assert inspect.signature(reference[name]) == inspect.signature(getattr(stub, name)), name


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_every_kata_has_a_suite_a_harness_and_points(kata):
    from gradkata.runner import max_points
    from gradkata.worker.harness import NAMES

    assert kata.suite_path.is_file()
    assert kata.harness in NAMES
    assert max_points(kata) > 0


@pytest.fixture(scope="module")
def graded(grade_warm):
    """References and stubs, graded through the real worker in one session (the session's warm zygote)."""
    solutions, stubs = grade_warm([PROJECT_ROOT / "solutions", PROJECT_ROOT / "exercises"],
                                  settings=GradingSettings(seed=20240611, examples=10))
    return {k.slug: k for k in solutions.katas}, {k.slug: k for k in stubs.katas}


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_reference_gets_full_marks(graded, slug):
    result = graded[0][slug]
    failures = [f"{c.name}: {c.message}" for c in result.checks if c.status is not Status.PASSED]
    assert result.status is Status.PASSED, (result.reason, failures)
    assert result.score == result.max_score > 0


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_stub_gets_zero_as_not_implemented(graded, slug):
    result = graded[1][slug]
    assert result.score == 0 and result.max_score > 0
    assert result.status is Status.NOT_IMPLEMENTED, (result.status, result.reason)
    assert result.checks, "every hidden test should have been tried and failed"


TORCH_WRAPPERS = {
    "clip_grad_norm": """
        import torch

        def clip_grad_norm(parameters, max_norm):
            return torch.nn.utils.clip_grad_norm_(parameters, max_norm)
    """,
    "clip_grad_value": """
        import torch

        def clip_grad_value(parameters, clip_value):
            return torch.nn.utils.clip_grad_value_(parameters, clip_value)
    """,
}


@pytest.mark.parametrize("slug", sorted(TORCH_WRAPPERS))
def test_torch_itself_passes_the_suite(tmp_path, slug):
    # In-process on purpose: through the worker this file would be refused for
    # delegation, which is a separate feature. This checks the suite's own honesty:
    # PyTorch, the oracle, must pass every test, torch's raise on empty input included.
    path = tmp_path / f"torch_{slug}.py"
    path.write_text(textwrap.dedent(TORCH_WRAPPERS[slug]))
    module = _load(path, f"torch_{slug}")
    kata = get(slug)
    checks = check_functions(kata, {slug: getattr(module, slug)}, GradingSettings(seed=7, examples=20))
    failures = [f"{c.name}: {c.message}" for c in checks if c.status is not Status.PASSED]
    assert checks and not failures


def test_examples_setting_holds_whatever_ran_before():
    """@given binds settings when a suite is first imported; every run must still use its own
    --examples (and no deadline), whether the suite was imported by `max_points`, a plain
    import or an earlier run with another count."""
    import importlib

    import numpy as np

    kata = get("clip_by_value")
    importlib.import_module("gradkata.katas.clip_by_value.suite")
    counts = []

    def clip_by_value(g, c):
        counts[-1] += 1
        return np.clip(g, -c, c)

    for examples in (7, 3, 7):
        counts.append(0)
        checks = check_functions(kata, {"clip_by_value": clip_by_value}, GradingSettings(seed=3, examples=examples))
        assert all(c.status is Status.PASSED for c in checks)
    assert counts[0] == counts[2] and counts[0] - counts[1] == 4, counts
