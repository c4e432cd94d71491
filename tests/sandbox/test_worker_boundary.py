"""The untrusted side imports nothing trusted.

The worker package and the katas' drivers are what the zygote copies into the
worker's private ``gradkata`` (``pool._copy_worker``); an import of anything else
from gradkata would fail there, or worse, pull the references, suites or
mutants into the student's reach if it were ever copied too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from gradkata.worker.harness import NAMES, driver_files

GRADER = Path(__file__).resolve().parents[2] / "grader"
WORKER_FILES = sorted((GRADER / "worker").rglob("*.py"))
DRIVER_FILES = sorted(GRADER.glob("katas/*/driver.py"))


def _gradkata_imports(path: Path, text: str | None = None) -> list[str]:
    """Every gradkata module ``path`` (or ``text`` read as if it were there) imports, relative imports resolved."""
    package = ["gradkata", *path.relative_to(GRADER).parent.parts]
    found = []
    for node in ast.walk(ast.parse(path.read_text() if text is None else text, str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "gradkata"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                found.append(".".join(base + ([node.module] if node.module else [])))
            elif (node.module or "").split(".")[0] == "gradkata":
                found.append(node.module or "")
    return found


@pytest.mark.parametrize("path", WORKER_FILES + DRIVER_FILES, ids=lambda p: str(p.relative_to(GRADER)))
def test_the_untrusted_side_imports_only_the_worker(path: Path) -> None:
    outside = [m for m in _gradkata_imports(path) if not (m == "gradkata.worker" or m.startswith("gradkata.worker."))]
    assert not outside, f"{path.relative_to(GRADER)} imports trusted modules {outside}: the worker copy has none of them"


def test_the_check_can_fail() -> None:
    # A driver importing the judge, absolutely or relatively, is caught.
    driver = GRADER / "katas" / "clip_grad_norm" / "driver.py"
    text = driver.read_text() + "\nfrom gradkata.judge import observe\nfrom ..suitekit import points\n"
    found = _gradkata_imports(driver, text)
    assert "gradkata.judge" in found and "gradkata.katas.suitekit" in found
    assert _gradkata_imports(GRADER / "worker" / "harness" / "_params.py", "from ...judge import observe\n") == \
        ["gradkata.judge"]


def test_every_kata_has_a_driver_and_the_worker_copies_them_all() -> None:
    from gradkata.katas import SLUGS

    assert set(NAMES) == set(SLUGS)
    assert {slug: path.name for slug, path in driver_files().items()} == {slug: "driver.py" for slug in SLUGS}
