"""Held-out mutants: buggy submissions written independently of the catalogue's
mutants (different code, same bug), graded through the real worker. Each must
lose credit on its kata and be named correctly; correct variants must get full
credit and no diagnosis.

File names say what is expected: ``heldout/<slug>__<mistake-name>.py`` and
``heldout/correct/<slug>__<anything>.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gradkata.diagnose import same_mistake
from gradkata.katas import get
from gradkata.results import Status
from gradkata.runner import grade_sources
from gradkata.settings import GradingSettings

HERE = Path(__file__).parents[1] / "heldout"
MUTANTS = sorted(HERE.glob("*.py"))
CORRECT = sorted((HERE / "correct").glob("*.py"))
pytestmark = pytest.mark.slow


@pytest.fixture
def zygote(shared_zygote):
    """The session's zygote (tests/conftest.py): these tests only grade through it."""
    return shared_zygote


def grade_file(zygote, path: Path):
    slug = path.stem.split("__")[0]
    [result] = grade_sources(zygote, [get(slug)], {slug: path.read_bytes()}, GradingSettings(seed=7, examples=10))
    return result


def named_right(result, slug: str, expected: str) -> bool:
    """The first named mistake is the expected one (a second may follow when the code has two bugs)."""
    named = [d.mistake for d in result.diagnoses if not d.mistake.endswith("/host-sync-per-tensor")]
    return bool(named) and same_mistake(get(slug), named[0], f"{slug}/{expected}")


def test_heldout_mutants_lose_credit_and_are_named(zygote):
    lost, right, lines = 0, 0, []
    for path in MUTANTS:
        slug, expected = path.stem.split("__")
        result = grade_file(zygote, path)
        lost += result.score < result.max_score
        ok = named_right(result, slug, expected)
        right += ok
        named = [d.mistake for d in result.diagnoses]
        lines.append(f"{path.stem}: {result.score:g}/{result.max_score:g} named {named}")
    print("\n".join(lines))
    print(f"held-out: {lost}/{len(MUTANTS)} lose credit, {right}/{len(MUTANTS)} named right")
    assert lost == len(MUTANTS), "\n".join(lines)
    assert right >= 0.9 * len(MUTANTS), "\n".join(lines)


# Correct in the interview tier; on a NaN norm they leave every gradient as it is
# (min(1.0, nan) is 1.0, `nan > max_norm` is False), which the parity tier names.
PARITY_ONLY = {"clip_grad_norm__float_return": ["clip_grad_norm/nan-slips-past-guard"],
               "clip_grad_norm__python_loop": ["clip_grad_norm/nan-slips-past-guard"]}


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.stem)
def test_correct_variants_get_full_credit_and_no_diagnosis(zygote, path):
    result = grade_file(zygote, path)
    assert result.status is Status.PASSED, [c.message for c in result.checks if c.status is not Status.PASSED]
    allowed = PARITY_ONLY.get(path.stem, [])
    assert [d.mistake for d in result.diagnoses] == allowed
    assert all(c.tier == "parity" for c in result.checks if c.status is not Status.PASSED)
    assert result.score == result.max_score or allowed


ROUTES = {
    "attribute": "import torch\ndef clip_grad_norm(p, m):\n    return torch.nn.utils.clip_grad_norm_(p, m)\n",
    "submodule": "import torch\ndef clip_grad_norm(p, m):\n    return torch.nn.utils.clip_grad.clip_grad_norm_(p, m)\n",
    "from-import": "from torch.nn.utils import clip_grad_norm_\ndef clip_grad_norm(p, m):\n    return clip_grad_norm_(p, m)\n",
    "deprecated": "import torch\ndef clip_grad_norm(p, m):\n    return torch.nn.utils.clip_grad_norm(p, m)\n",
    "getattr": "import torch\ndef clip_grad_norm(p, m):\n    return getattr(torch.nn.utils, 'clip_grad' + '_norm_')(p, m)\n",
    "reload": "import importlib\ndef clip_grad_norm(p, m):\n    u = importlib.reload(importlib.import_module('torch.nn.utils.' + 'clip' + '_grad'))\n"
              "    return getattr(u, 'clip_grad' + '_norm_')(p, m)\n",
}

# Routes the sandbox may stop before the call (reading torch's own sources is denied).
BLOCKED = {"reload"}

# Named in the source, never called: advice, not a zero (the score stands on what the code did).
UNUSED = {
    "unused-import": "from torch.nn.utils import get_total_norm\nimport torch\n\n"
                     "def clip_grad_norm(p, m):\n    p = [p] if isinstance(p, torch.Tensor) else list(p)\n"
                     "    g = [x.grad for x in p if x.grad is not None]\n    if not g:\n        return torch.tensor(0.)\n"
                     "    t = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(x) for x in g]))\n"
                     "    for x in g:\n        x.mul_(torch.clamp(m / (t + 1e-6), max=1.0).to(x.dtype))\n    return t\n",
    "never-run-branch": "import torch\nUSE_BUILTIN = False\n\n"
                        "def clip_grad_norm(p, m):\n    if USE_BUILTIN:\n"
                        "        from torch.nn.utils import clip_grad_norm_\n        return clip_grad_norm_(p, m)\n"
                        "    p = [p] if isinstance(p, torch.Tensor) else list(p)\n"
                        "    g = [x.grad for x in p if x.grad is not None]\n    if not g:\n        return torch.tensor(0.)\n"
                        "    t = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(x) for x in g]))\n"
                        "    for x in g:\n        x.mul_(torch.clamp(m / (t + 1e-6), max=1.0).to(x.dtype))\n    return t\n",
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_delegation_is_caught_however_it_is_reached(zygote, route):
    [result] = grade_sources(zygote, [get("clip_grad_norm")], {"clip_grad_norm": ROUTES[route].encode()},
                             settings=GradingSettings(seed=3, examples=3))
    assert result.score == 0
    if route in BLOCKED and result.status is Status.FAILED:
        # The sandbox refuses to read torch's sources: the route fails before any call.
        assert all("PermissionError" in c.message for c in result.checks if c.max_score), route
        assert result.diagnoses == []  # raising everywhere is no catalogued mistake
        return
    assert result.status is Status.ERROR
    assert [d.mistake for d in result.diagnoses] == ["clip_grad_norm/delegation"]
    assert "called while grading" in result.diagnoses[0].evidence


@pytest.mark.parametrize("route", sorted(UNUSED))
def test_a_builtin_named_but_never_called_is_advice(zygote, route):
    [result] = grade_sources(zygote, [get("clip_grad_norm")], {"clip_grad_norm": UNUSED[route].encode()},
                             settings=GradingSettings(seed=3, examples=3))
    assert result.score == result.max_score and result.status is Status.PASSED
    [advice] = result.diagnoses
    assert advice.mistake == "clip_grad_norm/names-builtin" and advice.advice
    assert "no points are taken off" in advice.message and "imports or names torch.nn.utils." in advice.message
