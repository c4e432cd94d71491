"""Delegation to PyTorch's clipping earns nothing, however the submission reaches for it.

Each file in tests/attacks/delegation/ is a clip_grad_norm.py built to slip
past the static scan (names from pieces); only the sandbox's guard stands
between it and the points. own_foreach.py is the control: an honest
implementation on torch's foreach primitives keeps full marks.
"""

from __future__ import annotations

import ast
import shutil
import time
from pathlib import Path

import pytest

from gradkata.api import grade
from gradkata.diagnose import forbidden_references
from gradkata.katas import get
from gradkata.pool import Limits
from gradkata.settings import GradingSettings

ATTACKS = Path(__file__).parents[1] / "attacks" / "delegation"
NAMES = sorted(p.stem for p in ATTACKS.glob("*.py"))
CONTROL = "own_foreach"
KATA = get("clip_grad_norm")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("delegation")
    paths = []
    for name in NAMES:
        (root / name).mkdir()
        shutil.copy(ATTACKS / f"{name}.py", root / name / "clip_grad_norm.py")
        paths.append(root / name)
    t0 = time.perf_counter()
    # Generous limits: on a loaded machine the control once ran out of a 5 s call budget.
    results = grade(paths, ["clip_grad_norm"], GradingSettings(seed=1, examples=5),
                    limits=Limits(call_s=20.0, kata_s=120.0))
    print(f"\n{len(paths)} submissions graded in {time.perf_counter() - t0:.1f} s")
    return {Path(r.submission).name: r for r in results}


def test_the_static_scan_misses_every_attack() -> None:
    # Otherwise these tests would prove the scan, not the sandbox's guard.
    for name in NAMES:
        tree = ast.parse((ATTACKS / f"{name}.py").read_text())
        assert forbidden_references(tree, KATA.forbid, KATA.functions) == [], name


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in NAMES if n != CONTROL])
def test_attack_earns_nothing(graded: dict, name: str) -> None:
    result = graded[name].katas[0]
    said = result.reason or next((c.message for c in result.checks if not c.score), "")
    print(f"{name:20} {result.score:g}/{result.max_score:g} in {graded[name].elapsed_s:.2f} s: {said[:90]}")
    assert result.max_score > 0
    assert result.score == 0.0, [c.name for c in result.checks if c.score]


@pytest.mark.slow
def test_a_call_that_reaches_the_tripwire_is_named(graded: dict) -> None:
    result = graded["hidden_name_call"].katas[0]
    assert result.score == 0.0 and "clip_grad_norm_" in result.reason, result.reason


@pytest.mark.slow
def test_own_foreach_implementation_keeps_full_marks(graded: dict) -> None:
    result = graded[CONTROL].katas[0]
    assert result.score == result.max_score > 0, (result.reason, [c.message for c in result.checks if not c.score])
    assert "guard" in graded[CONTROL].sandbox
