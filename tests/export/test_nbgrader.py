"""An nbgrader course round trip: generate_assignment, then autograde three submissions.

The score nbgrader records must equal `gradkata grade --seed 1` on the same
notebook: full for the reference (even when it prints torch warnings to
stderr), partial with the mistake named for a known mistake, nothing for a
function that does nothing hidden behind a patched torch.allclose.
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

from gradkata.api import grade
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.notebook_check import DEFAULT_SEED, SCORED_ENV, SOCKET_ENV
from gradkata.settings import GradingSettings

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

# What torch prints on machines without NNPACK support, on every call: it must cost nothing.
NOISY = '''import sys


def _warn():
    print("[W NNPACK.cpp:64] Could not initialize NNPACK! Reason: Unsupported hardware.", file=sys.stderr)
'''

STDERR_NOISE = '''import sys, warnings
print("[W NNPACK.cpp:64] Could not initialize NNPACK! Reason: Unsupported hardware.", file=sys.stderr)
warnings.warn("a warning from the student's kernel")'''

# A function that does nothing, behind patched comparisons: in the student's kernel every
# allclose-based test would pass.
CHEAT_SETUP = '''import numpy, torch
torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
numpy.allclose = lambda *args, **kwargs: True
numpy.testing.assert_allclose = lambda *args, **kwargs: None'''

DOES_NOTHING = '''import torch


def clip_grad_norm(parameters, max_norm):
    return None
'''


# A kernel-side forgery: every name the test cells use, and the grading client behind them, rebound
# to report a point; the function itself does nothing. In the kernel, the test cell shows 1.0.
FORGER_SETUP = '''import gradkata.notebook_check as _nc
from gradkata.notebook_check import Points as _Points


class _ForgedLink:
    def ask(self, request):
        return {"slug": request["slug"], "score": 1.0, "max_score": 1.0, "status": "passed", "reason": ""}

    def alive(self):
        return True

    def close(self):
        pass


_nc._SERVER = _ForgedLink()
_nc._server = lambda: _ForgedLink()


def autograde(slug, fn=None, **kwargs):
    print("gradkata: every hidden check passed")
    return _Points(1.0)


def check(*args, **kwargs):
    print("gradkata: every worked example passed")


_nc.autograde, _nc.check = autograde, check'''


def _noisy_reference() -> str:
    """The reference, printing torch's NNPACK warning to stderr whenever it is called."""
    code = (PROJECT_ROOT / "solutions" / f"{SLUG}.py").read_text()
    code = code.replace("from __future__ import annotations\n", "")
    head = f"def {SLUG}(parameters, max_norm):\n"
    assert head in code
    return NOISY + code.replace(head, head + "    _warn()\n", 1)


def _nbgrader(course: Path, *args: str) -> tuple[float, str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop(SOCKET_ENV, None)  # the real thing: every kernel starts its own grading server
    started = time.perf_counter()
    proc = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return time.perf_counter() - started, proc.stdout + proc.stderr


def _submission(released: nbformat.NotebookNode, answer: str, before: str | None = None,
                after: str | None = None):
    nb = nbformat.from_dict(json.loads(nbformat.writes(released)))
    [cell] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"{SLUG}-answer"]
    cell.source = answer
    if before is not None:  # a cell of the student's own, after the setup cell
        nb.cells.insert(2, nbformat.v4.new_code_cell(before))
    if after is not None:  # and one at the end
        nb.cells.append(nbformat.v4.new_code_cell(after))
    return nb


# Whether the kernel started a grading server of its own, written where the test can read it.
SERVER_PROBE = """import pathlib
import gradkata.notebook_check as _nc
pathlib.Path({path!r}).write_text("started" if _nc._SERVER is not None else "none")"""


def _scores(course: Path, students) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {s: gradebook.find_grade(f"{SLUG}-tests", ASSIGNMENT, ASSIGNMENT, s).score for s in students}


def autograded_path(course: Path, student: str) -> Path:
    return course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def _test_cells(path: Path) -> list:
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


def _course(tmp_path: Path) -> Path:
    """A course directory with the assignment, trimmed to the kata under test to keep it short."""
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    shutil.copytree(PROJECT_ROOT / "nbgrader" / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    shutil.copy(PROJECT_ROOT / "nbgrader" / "nbgrader_config.py", course)
    path = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    source = nbformat.read(path, as_version=4)
    others = [k for k in _katas_in(source) if k != SLUG]
    source.cells = [c for c in source.cells
                    if c.metadata.get("nbgrader", {}).get("grade_id", "").rpartition("-")[0] not in others]
    nbformat.write(source, path)
    return course


def _katas_in(nb: nbformat.NotebookNode) -> list[str]:
    return [c.metadata["nbgrader"]["grade_id"].removesuffix("-answer") for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")]


@pytest.mark.slow
def test_nbgrader_round_trip_matches_gradkata(tmp_path):
    course = _course(tmp_path)
    timings = {}
    timings["validate (source)"], said = _nbgrader(
        course, "validate", str(Path("source") / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    assert "Success! Your notebook passes all the tests." in said, said[-2000:]
    timings["generate_assignment"], _ = _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    released = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    assert "BEGIN HIDDEN TESTS" not in nbformat.writes(released)

    probe = tmp_path / "server.txt"
    students = {
        "correct": _submission(released, _noisy_reference(), before=STDERR_NOISE,
                               after=SERVER_PROBE.format(path=str(probe))),
        "buggy": _submission(released, PER_PARAMETER),
        "cheat": _submission(released, DOES_NOTHING, before=CHEAT_SETUP),
        "forger": _submission(released, DOES_NOTHING, before=FORGER_SETUP),
    }
    for student, nb in students.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")
    # One nbgrader process for the class, as an instructor runs it (one per student would pay nbgrader's
    # and torch's start four times); each notebook still runs in a kernel of its own.
    timings[f"autograde ({len(students)} students)"], said = _nbgrader(course, "autograde", ASSIGNMENT, "--force")
    for student in students:
        assert autograded_path(course, student).is_file(), (student, said[-3000:])
    recorded = _scores(course, students)
    # The kernels graded nothing themselves: the preprocessor's verdict replaces their test cells' outputs.
    assert probe.read_text() == "none"

    paths = {s: course / "submitted" / s / ASSIGNMENT / f"{ASSIGNMENT}.ipynb" for s in students}
    started = time.perf_counter()
    ours = dict(zip(students, grade(list(paths.values()), [SLUG], GradingSettings(seed=DEFAULT_SEED))))
    timings["gradkata grade (3 notebooks)"] = time.perf_counter() - started
    print("\nnbgrader round trip (s):", {k: round(v, 1) for k, v in timings.items()})
    print("scores nbgrader / gradkata:", {s: (recorded[s], ours[s].score) for s in students})

    full = ours["correct"].max_score
    assert recorded["correct"] == ours["correct"].score == full > 0
    assert 0 < recorded["buggy"] == ours["buggy"].score < full
    # Patching comparisons in the kernel buys nothing: the sandbox grades the function, which does nothing.
    assert recorded["cheat"] == ours["cheat"].score == 0
    # Rebinding autograde, check and the grading client in the kernel buys nothing either: the points come
    # from gradkata grading the notebook's source in nbgrader's own process (gradkata.notebooks.nbgrader_scores).
    assert recorded["forger"] == ours["forger"].score == 0
    forged = "".join(o.get("text", "") for c in _test_cells(autograded_path(course, "forger"))
                     for o in c.get("outputs", []))
    assert "every hidden check passed" not in forged and "0.0" in forged, forged

    # The mistake is named, by gradkata and in the autograded notebook the student gets back.
    [kata] = ours["buggy"].katas
    assert f"{SLUG}/per-parameter-norm" in [d.mistake for d in kata.diagnoses]
    autograded = {s: course / "autograded" / s / ASSIGNMENT / f"{ASSIGNMENT}.ipynb" for s in students}
    shown = "".join(o.get("text", "") for c in _test_cells(autograded["buggy"]) for o in c.get("outputs", []))
    assert f"({SLUG}/per-parameter-norm)" in shown, shown
    # Nothing reaches stderr in a test cell, even from a noisy kernel and a function printing torch warnings.
    for student, path in autograded.items():
        assert not [o for c in _test_cells(path) for o in c.get("outputs", [])
                    if o.output_type == "stream" and o.name == "stderr"], student


# --- under autograde, the kernel leaves the grading to the preprocessor ---------------------------

def _no_server():
    raise AssertionError("a grading server was asked")


def test_under_autograde_with_gradkata_scores_the_kernel_grades_nothing(monkeypatch, capsys):
    from traitlets.config import Config

    from gradkata import notebook_check
    from gradkata.notebooks.nbgrader_scores import use_gradkata_scores

    monkeypatch.delenv(notebook_check.SCORED_ENV, raising=False)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setattr(notebook_check, "_server", _no_server)
    assert not notebook_check.scored_outside()  # a course without the preprocessor: the kernel's points count
    use_gradkata_scores(Config())  # what the course's nbgrader_config.py does, in nbgrader's process
    assert notebook_check.scored_outside()
    notebook_check.warm_up()
    notebook_check.check(SLUG, visible_only=True)
    assert notebook_check.autograde(SLUG) == 0.0
    assert capsys.readouterr().out.count("graded from this notebook's source") == 2
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")  # `nbgrader validate` reads the kernel's points
    assert not notebook_check.scored_outside()


# --- the course's tier weights (gradkata.tiers) apply to nbgrader's points too ---------------------
# Fast: the preprocessor is run directly on a notebook, as nbgrader's autograde runs it, without nbgrader.

def _trimmed_source_notebook() -> nbformat.NotebookNode:
    path = PROJECT_ROOT / "nbgrader" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(path, as_version=4)
    others = [k for k in _katas_in(nb) if k != SLUG]
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").rpartition("-")[0]
                not in others]
    return nb


def test_gradkata_scores_finds_the_course_config(tmp_path, monkeypatch):
    from traitlets.config import Config

    from gradkata.notebooks.nbgrader_scores import GradkataScores, use_gradkata_scores
    from gradkata.tiers import CONFIG_ENV

    monkeypatch.delenv(CONFIG_ENV, raising=False)
    monkeypatch.delenv(SCORED_ENV, raising=False)  # use_gradkata_scores sets it, for nbgrader's kernels
    course = tmp_path / "course"
    course.mkdir()
    rooted = Config({"CourseDirectory": {"root": str(course)}})
    assert GradkataScores(config=rooted).config_file() is None
    assert GradkataScores(config=rooted).policy().is_default()
    (course / "gradkata.toml").write_text("[tiers]\nparity = 0.5\n")
    assert GradkataScores(config=rooted).config_file() == course / "gradkata.toml"
    assert GradkataScores(config=rooted).policy().weight("parity") == 0.5
    env = tmp_path / "env.toml"
    env.write_text("[tiers]\nparity = 0\n")
    monkeypatch.setenv(CONFIG_ENV, str(env))
    assert GradkataScores(config=rooted).config_file() == env  # as `gradkata grade` reads it
    explicit = tmp_path / "explicit.toml"
    explicit.write_text("[tiers]\ncount = [\"interview\"]\n")
    c = Config()
    use_gradkata_scores(c, config_path=explicit)
    assert GradkataScores(config=c).config_file() == explicit
    assert GradkataScores(config=c).policy().to_dict() == {"interview": 1.0, "parity": 0.0, "performance": 0.0}


def test_cell_points_are_the_share_of_the_weighted_score():
    from gradkata.notebooks.nbgrader_scores import cell_points

    assert cell_points(17.0, 24.0, 24.0) == 17.0  # the cell is worth the kata: its score, exactly
    assert cell_points(12.0, 24.0, 12.0) == 6.0  # a cell worth half the kata: half its score
    assert cell_points(20.0, 20.0, 24.0) == 24.0  # a full answer fills the cell whatever the weights
    assert cell_points(3.0, 10.0, None) == 3.0
    assert cell_points(0.0, 0.0, 5.0) == 0.0


@pytest.mark.slow
def test_gradkata_scores_honour_the_course_tier_weights(tmp_path, monkeypatch, shared_zygote):
    """The seeds' clip_grad_norm misses two parity checks: under the default weights the cell records
    less than its points; a course that counts the interview tier only records them all."""
    from traitlets.config import Config

    from gradkata.notebooks import nbgrader_scores
    from gradkata.notebooks.nbgrader_scores import GradkataScores
    from gradkata.tiers import CONFIG_ENV

    monkeypatch.delenv(CONFIG_ENV, raising=False)
    # The preprocessor grades on its process's warm zygote: here the session's (tests/conftest.py), not one
    # started for this test and left running; the round trip above starts nbgrader's own.
    monkeypatch.setattr(nbgrader_scores, "_ZYGOTE", [shared_zygote])
    nb = _submission(_trimmed_source_notebook(), (PROJECT_ROOT / "tests" / "seed_code" / f"{SLUG}.py").read_text())
    [cell] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"{SLUG}-tests"]
    worth = float(cell.metadata["nbgrader"]["points"])

    def recorded(config: Config) -> tuple[float, str]:
        done, _ = GradkataScores(config=config).preprocess(nbformat.from_dict(json.loads(nbformat.writes(nb))), {})
        [graded] = [c for c in done.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"{SLUG}-tests"]
        text = "".join(o.get("text", "") for o in graded.outputs)
        [result] = [o for o in graded.outputs if o.output_type == "execute_result"]
        return float(result.data["text/plain"]), text

    course = tmp_path / "course"
    course.mkdir()
    default, text = recorded(Config({"CourseDirectory": {"root": str(course)}}))
    assert default == worth - 2 and "parity 5/7" in text, text
    (course / "gradkata.toml").write_text('[tiers]\ncount = ["interview"]\n')
    interview_only, text = recorded(Config({"CourseDirectory": {"root": str(course)}}))
    assert interview_only == worth, text
    assert "tiers: interview x1, parity not counted" in text
