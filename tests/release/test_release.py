"""The student release holds no line of a reference, a hidden suite or a mutant."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gradkata.katas import all_katas
from gradkata.katas._kata import KATAS_DIR, PROJECT_ROOT
from gradkata.release import build_release

PRIVATE = sorted([*(PROJECT_ROOT / "solutions").glob("*.py"), *KATAS_DIR.glob("*/reference.py"),
                  *KATAS_DIR.glob("*/suite.py"),
                  *KATAS_DIR.glob("*/mistakes.py")])
# Lines the release may share with private files without revealing anything:
# - blank lines and lines of punctuation only (a lone `)`, `]`, `"""`, `):`);
# - imports: the stubs import what the solutions need, and saying "use torch" gives nothing away;
# - any line of the public stubs, which are generated from the kata definitions: `def` signatures
#   and the docstring text that the references and suites may quote;
# - bare block keywords and bare returns (`else:`, `try:`, `return`, `pass`): no algorithm in them;
# - a call with no arguments (`optimizer.zero_grad()`, `optimizer.step()`, `ax.legend()`) and an
#   empty start (`norms = []`, `total = 0.0`): every training loop has them, and the notebooks must
#   show training loops;
# - matplotlib calls (`ax.`, `plt.`, `fig.`): drawing a figure, which notebooks and a monitor share;
# - a bare, unassigned call of a PyTorch function on plain names
#   (`torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)`): PyTorch's documented usage,
#   which the notebooks demonstrate as the oracle. An assignment or any arithmetic in the call
#   still counts, so a reference's actual line (`total_norm = torch...(..., max_norm=max_norm)`) is caught.
# Everything else counts, comments included: a reference's comment can explain its trick.
PUNCTUATION_ONLY = re.compile(r"^[\s()\[\]{}:,.'\"#-]*$")
IMPORT = re.compile(r"^(import \S+( as \w+)?|from \S+ import [\w, ()*]+( as \w+)?)$")
BARE_KEYWORD = re.compile(r"^(else|try|finally|except|pass|return|continue|break|return None|"
                          r"raise|if __name__ == \"__main__\"):?$")
NO_ARGUMENT_CALL = re.compile(r"^[\w.]+\(\)$")
EMPTY_START = re.compile(r"^\w+ = (\[\]|\{\}|\(\)|0|0\.0|None|False|True)$")
TORCH_CALL = re.compile(r"^torch(\.\w+)+\(([\w.]+(\(\))?(, )?)*\)$")
PLOTTING = re.compile(r"^(ax|axes|plt|fig)\b[\w\[\]]*\.\w+\(")


def stub_lines() -> set[str]:
    return {line.strip() for kata in all_katas() for line in kata.render_stub().splitlines()}


def trivial(line: str, public: set[str]) -> bool:
    return (PUNCTUATION_ONLY.match(line) is not None or IMPORT.match(line) is not None
            or BARE_KEYWORD.match(line) is not None or NO_ARGUMENT_CALL.match(line) is not None
            or EMPTY_START.match(line) is not None or PLOTTING.match(line) is not None
            or TORCH_CALL.match(line) is not None or line in public)


def text_lines(path: Path) -> list[str]:
    """The lines a student reads: for a notebook, its cells' sources and text outputs."""
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        chunks = []
        for cell in nb.get("cells", []):
            chunks.append("".join(cell.get("source", [])))
            for out in cell.get("outputs", []):
                chunks.append("".join(out.get("text", [])))
                chunks.append("".join(out.get("data", {}).get("text/plain", [])))
        return "\n".join(chunks).splitlines()
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release")
    build_release(out, force=True)
    return out


def test_release_has_stubs_examples_readme(release):
    for kata in all_katas():
        assert (release / "exercises" / f"{kata.slug}.py").read_text() == kata.render_stub()
    assert "Worked examples" in (release / "EXAMPLES.md").read_text()
    assert "exercises/clip_grad_norm.py" in (release / "README.md").read_text()
    if any((PROJECT_ROOT / "notebooks").glob("*.ipynb")):
        assert any((release / "notebooks").glob("*.ipynb"))


def test_release_has_no_private_file(release):
    names = {p.name for p in release.rglob("*")}
    assert not names & {"suite.py", "mistakes.py", "solutions"}
    assert not any("BEGIN SOLUTION" in "\n".join(text_lines(p)) or "BEGIN HIDDEN TESTS" in "\n".join(text_lines(p))
                   for p in release.rglob("*") if p.is_file())


def private_lines() -> dict[str, str]:
    """Each non-trivial line of a reference, suite or mutant, with where it comes from."""
    public = stub_lines()
    private: dict[str, str] = {}
    for path in PRIVATE:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text = line.strip()
            if not trivial(text, public):
                private.setdefault(text, f"{path.relative_to(PROJECT_ROOT)}:{n}")
    return private


def leaks_in(release: Path) -> list[str]:
    private = private_lines()
    leaks = []
    for path in sorted(p for p in release.rglob("*") if p.is_file()):
        for n, line in enumerate(text_lines(path), 1):
            if line.strip() in private:
                leaks.append(f"{path.relative_to(release)}:{n} repeats {private[line.strip()]}: {line.strip()}")
    return leaks


def test_release_contains_no_line_of_a_reference_suite_or_mutant(release):
    assert PRIVATE, "no private files found: the scan would prove nothing"
    leaks = leaks_in(release)
    assert not leaks, "\n".join(leaks[:30])


def test_the_scan_catches_a_leaked_line(tmp_path):
    reference = (PROJECT_ROOT / "solutions" / "clip_grad_norm.py").read_text().splitlines()
    public = stub_lines()
    secret = next(line.strip() for line in reference if not trivial(line.strip(), public))
    nb = {"cells": [{"cell_type": "code", "source": ["x = 1\n", "    " + secret + "\n"], "outputs": []}]}
    (tmp_path / "leak.ipynb").write_text(json.dumps(nb))
    (tmp_path / "ok.py").write_text("import torch\n\n")
    leaks = leaks_in(tmp_path)
    assert len(leaks) == 1 and leaks[0].startswith("leak.ipynb:2 repeats solutions/clip_grad_norm.py")
