"""An nbgrader course round trip: generate_assignment, then autograde three submissions.

The score nbgrader records must equal `gradkata grade --seed 1` on the same
notebook: full for the reference, partial for a known mistake, nothing for a
wrong function hidden behind a patched torch.allclose.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from grader.api import grade
from grader.katas._kata import PROJECT_ROOT
from grader.notebook_check import DEFAULT_SEED

ASSIGNMENT = "01_clipping"
SLUG = "clip_grad_norm"
BIN = Path(sys.executable).parent

PER_PARAMETER = '''import torch


def clip_grad_norm(parameters, max_norm):
    # The usual mistake: each gradient clipped by its own norm, not the global one.
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    norms = []
    for p in params:
        if p.grad is None:
            continue
        norm = p.grad.norm()
        norms.append(norm)
        p.grad.mul_(torch.clamp(max_norm / (norm + 1e-6), max=1.0))
    return torch.stack(norms).norm() if norms else torch.tensor(0.0)
'''

CHEAT_SETUP = '''import numpy, torch
torch.allclose = lambda *args, **kwargs: True
numpy.allclose = lambda *args, **kwargs: True
import sys
print("a warning on stderr", file=sys.stderr)'''

WRONG = '''import torch


def clip_grad_norm(parameters, max_norm):
    return None  # clips nothing, returns nothing
'''


def _nbgrader(course: Path, *args: str) -> float:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    started = time.perf_counter()
    proc = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return time.perf_counter() - started


def _submission(source: nbformat.NotebookNode, answer: str | None, before: str | None = None):
    nb = nbformat.from_dict(json.loads(nbformat.writes(source)))
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if answer is not None and meta.get("grade_id") == f"{SLUG}-answer":
            cell.source = answer
    if before is not None:
        nb.cells.insert(2, nbformat.v4.new_code_cell(before))
    return nb


def _scores(course: Path, students) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {s: gradebook.find_grade(f"{SLUG}-tests", ASSIGNMENT, ASSIGNMENT, s).score for s in students}


@pytest.mark.slow
def test_nbgrader_round_trip_matches_gradkata(tmp_path):
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    shutil.copytree(PROJECT_ROOT / "nbgrader" / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    shutil.copy(PROJECT_ROOT / "nbgrader" / "nbgrader_config.py", course)
    source = nbformat.read(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    # Only the kata under test carries tests here, to keep the round trip short.
    source.cells = [c for c in source.cells
                    if not c.metadata.get("nbgrader", {}).get("grade_id", "").startswith(
                        ("clip_grad_value", "clip_by_norm", "clip_by_value"))]
    nbformat.write(source, course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")

    timings = {"generate_assignment": _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")}
    released = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    assert "BEGIN HIDDEN TESTS" not in nbformat.writes(released)

    reference = (PROJECT_ROOT / "solutions" / f"{SLUG}.py").read_text()
    students = {
        "correct": _submission(released, reference, before="import sys\nprint('torch says hi', file=sys.stderr)"),
        "buggy": _submission(released, PER_PARAMETER),
        "cheat": _submission(released, WRONG, before=CHEAT_SETUP),
    }
    for student, nb in students.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")
    for student in students:
        timings[f"autograde {student}"] = _nbgrader(course, "autograde", ASSIGNMENT, "--student", student, "--force")
    recorded = _scores(course, students)

    paths = [course / "submitted" / s / ASSIGNMENT / f"{ASSIGNMENT}.ipynb" for s in students]
    ours = {Path(r.submission).parts[-3]: r for r in grade(paths, [SLUG], seed=DEFAULT_SEED)}
    print("\nnbgrader round trip (s):", {k: round(v, 1) for k, v in timings.items()})
    print("scores nbgrader / gradkata:", {s: (recorded.get(s), ours[s].score) for s in students})

    full = ours["correct"].max_score
    assert recorded["correct"] == ours["correct"].score == full > 0
    assert 0 < recorded["buggy"] == ours["buggy"].score < full
    # Patching comparisons in the kernel buys nothing: the score is what the wrong function earns in the sandbox.
    assert recorded["cheat"] == ours["cheat"].score < full
    # The mistake is named once the diagnosis engine reports it.
    kata = ours["buggy"].katas[0]
    if kata.diagnoses:
        assert any("norm" in d.mistake for d in kata.diagnoses)
    autograded = nbformat.read(course / "autograded" / "buggy" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    stderr = [o for c in autograded.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "stream" and o.name == "stderr"
              and c.metadata.get("nbgrader", {}).get("grade")]
    assert not stderr
