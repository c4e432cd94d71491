"""The notebooks: generated from the catalogue, they run, they plot, and .ipynb submissions grade."""

from __future__ import annotations

import ast
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from gradkata.api import grade
from gradkata.katas import get
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.notebook import cells_to_module, extract
from gradkata.notebook_check import SOCKET_ENV, is_stub
from gradkata.notebooks.build import generate, drifted
from gradkata.results import Status
from gradkata._errors import SubmissionError
from gradkata.settings import GradingSettings

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
ASSIGNMENTS = sorted((PROJECT_ROOT / "nbgrader" / "source").glob("*/*.ipynb"))


def test_committed_notebooks_match_the_generator():
    stale = drifted(generate())
    assert not stale, f"regenerate with `gradkata notebooks build`: {[str(p) for p in stale]}"


def test_notebooks_are_committed_without_outputs():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") and c.get("execution_count") is None
                   for c in nb.cells if c.cell_type == "code"), path.name


def _tagged(nb, tag: str) -> list:
    return [c for c in nb.cells if tag in c.metadata.get("tags", [])]


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _with_references(nb):
    for cell in _tagged(nb, "gradkata-exercise"):
        cell.source = get(cell.metadata["gradkata"]["kata"]).solution_path.read_text()
    return nb


@dataclass
class Run:
    notebook: nbformat.NotebookNode
    error: BaseException | None
    seconds: float


@pytest.fixture(scope="module")
def grading_server(tmp_path_factory):
    """One warm grading server shared by every kernel of this module (each would start its own)."""
    folder = tmp_path_factory.mktemp("server")
    # A Unix socket path is limited to about 100 bytes; a deep $TMPDIR would exceed it.
    path = folder / "gradkata.sock" if len(str(folder)) < 80 else Path(tempfile.mkdtemp(dir="/tmp")) / "gradkata.sock"
    with open(folder / "server.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "gradkata.notebook_check", "--listen", str(path)],
                                cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=log)
    try:
        for _ in range(600):
            if path.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert path.exists(), (folder / "server.log").read_text()
        yield path
    finally:
        proc.terminate()
        proc.wait(timeout=60)


async def _execute_all(jobs: dict[str, nbformat.NotebookNode], cwd: Path, parallel: int) -> dict[str, Run]:
    from nbclient import NotebookClient

    gate = asyncio.Semaphore(parallel)
    runs: dict[str, Run] = {}

    async def execute(key: str, nb: nbformat.NotebookNode) -> None:
        async with gate:
            started = time.perf_counter()
            client = NotebookClient(nb, timeout=300, kernel_name="python3",
                                    resources={"metadata": {"path": str(cwd)}})
            try:
                await client.async_execute()
                error = None
            except Exception as exc:  # reported by the test of that notebook
                error = exc
            runs[key] = Run(nb, error, time.perf_counter() - started)

    await asyncio.gather(*(execute(k, nb) for k, nb in jobs.items()))
    return runs


def _then_references(path: Path) -> tuple[nbformat.NotebookNode, int]:
    """The notebook as committed (stubs), then its cells again with the references in the exercise
    cells: what a learner runs in one kernel (Run All, read "not implemented", write the answers, Run
    All again). Returns it and where the second run begins."""
    nb = nbformat.read(path, as_version=4)
    first = len(nb.cells)
    nb.cells += _with_references(nbformat.read(path, as_version=4)).cells
    return nb, first


def _part(run: Run, cells: slice) -> Run:
    part = nbformat.from_dict(run.notebook)
    part.cells = part.cells[cells]
    return Run(part, run.error, run.seconds)


@pytest.fixture(scope="module")
def executed(grading_server, tmp_path_factory) -> dict[str, Run]:
    """Every self-study notebook run top to bottom as committed (stubs), then, in the same kernel,
    again with the references; and every nbgrader source notebook (the instructor's, with solutions).

    The kernels run a few at a time and share one grading server, which is
    what keeps this module's run time reasonable (a kernel's start, torch's
    import included, costs seconds of CPU: one kernel per self-study notebook,
    not two, took 7 of 20 starts off).
    """
    jobs, halves = {}, {}
    for path in NOTEBOOKS:
        jobs[f"{path.stem}/stubs, then references"], halves[path.stem] = _then_references(path)
    for path in ASSIGNMENTS:
        jobs[f"{path.stem}/nbgrader source"] = nbformat.read(path, as_version=4)
    with pytest.MonkeyPatch.context() as env, warnings.catch_warnings():
        # jupyter_client and zmq deprecations are not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        env.setenv(SOCKET_ENV, str(grading_server))
        # Importing the gradient_monitor harness in this process (other tests do) sets
        # MPLBACKEND=Agg, under which the kernels would draw no inline figures.
        env.delenv("MPLBACKEND", raising=False)
        runs = asyncio.run(_execute_all(jobs, tmp_path_factory.mktemp("run"), parallel=3))
    print("\nnotebook execution (s, run 3 at a time):",
          {k: round(r.seconds, 1) for k, r in sorted(runs.items())})
    for stem, first in halves.items():
        both = runs.pop(f"{stem}/stubs, then references")
        # An error in the first run stops the kernel before the second: both then fail.
        runs[f"{stem}/stubs"], runs[f"{stem}/references"] = _part(both, slice(first)), _part(both, slice(first, None))
    return runs


def _assert_ran(run: Run) -> None:
    errors = [o for c in run.notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "error"]
    assert run.error is None and not errors, f"{run.error}\n{errors[:1]}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_with_the_references_and_plots(path, executed):
    run = executed[f"{path.stem}/references"]
    _assert_ran(run)
    for cell in _tagged(run.notebook, "gradkata-check"):
        assert "passed" in _text(cell) and "Every hidden check passed" in _text(cell), _text(cell)
    plots = _tagged(run.notebook, "gradkata-plot")
    assert plots, "every notebook shows at least one plot"
    for cell in plots:
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), cell.source[:80]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_with_the_stubs_reports_not_implemented(path, executed):
    run = executed[f"{path.stem}/stubs"]
    _assert_ran(run)
    for cell in _tagged(run.notebook, "gradkata-check"):
        assert "not implemented" in _text(cell), _text(cell)


@pytest.mark.slow
@pytest.mark.parametrize("path", ASSIGNMENTS, ids=lambda p: p.parent.name)
def test_nbgrader_source_notebook_earns_full_points(path, executed):
    """The solution cells, as the instructor's notebook holds them, score every point in the autograder cells."""
    run = executed[f"{path.stem}/nbgrader source"]
    _assert_ran(run)
    tests = [c for c in run.notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert tests
    for cell in tests:
        [value] = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert float(value.data["text/plain"]) == cell.metadata["nbgrader"]["points"] > 0, _text(cell)


# --- .ipynb submissions ---------------------------------------------------------------------

def _notebook_bytes(*cells: str) -> bytes:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    return nbformat.writes(nb).encode()


def test_magics_and_shell_escapes_are_dropped_with_a_note():
    got = extract(_notebook_bytes("%matplotlib inline\nimport numpy as np\n!pip install torch",
                                  "%%time\nx = 1", "def f(g):\n    return np.clip(g, -1, 1)"), "sub.ipynb")
    assert "pip" not in got.code and "%%time" not in got.code and "def f(g)" in got.code
    assert any("%matplotlib inline" in n for n in got.notes)
    assert any("cell magic" in n for n in got.notes)
    compile(got.code, "sub", "exec")


def test_a_percent_sign_inside_a_string_is_kept():
    got = cells_to_module(['def f():\n    """doc\n%d items\n!"""\n    return 1'])
    assert "%d items" in got.code and not got.notes


def test_demos_checks_and_monkeypatches_are_left_out():
    got = cells_to_module([
        "import torch\nfrom gradkata.notebook_check import check\nimport matplotlib.pyplot as plt",
        "EPS = torch.tensor(1e-6)\ndef f(x):\n    return x\nhistory = f(3)",
        "torch.allclose = lambda *a, **k: True\nfig, ax = plt.subplots()\ncheck('clip_grad_norm', f)",
    ])
    body = [line for line in got.code.splitlines() if not line.startswith("#")]
    assert "EPS = torch.tensor(1e-6)" in body and "def f(x):" in body
    for gone in ("torch.allclose = lambda", "plt.subplots", "check(", "history = f(3)", "from gradkata"):
        assert not any(gone in line for line in body), gone


@pytest.mark.parametrize("data, why", [
    (b"{not json", "not valid JSON"),
    (b'{"cells": 3, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "cells"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_malformed_notebooks_raise_a_clear_error(data, why):
    with pytest.raises(SubmissionError, match=why):
        extract(data, "broken.ipynb")


@pytest.mark.slow
def test_ipynb_grading_zeroes_only_the_malformed_submission(tmp_path):
    good = tmp_path / "good.ipynb"
    good.write_bytes(_notebook_bytes("%load_ext autoreload\nimport numpy as np",
                                     (PROJECT_ROOT / "solutions" / "clip_by_value.py").read_text(),
                                     "clip_by_value(np.array([3.0, -4.0]), 1.0)"))
    bad = tmp_path / "bad.ipynb"
    bad.write_text(json.dumps({"cells": [{"cell_type": "code"}]})[:-3])
    first, second = grade([bad, good], ["clip_by_value"], GradingSettings(seed=1))
    [broken] = first.katas
    assert broken.score == 0 and broken.status is Status.ERROR and "bad.ipynb" in broken.reason
    [fine] = second.katas
    assert fine.score == fine.max_score > 0, fine
    assert any("%load_ext" in n for n in second.notes)


def test_matplotlib_imports_are_kept_for_functions_that_plot():
    got = cells_to_module(["import matplotlib.pyplot as plt\nimport numpy as np",
                           "def draw(xs):\n    fig, ax = plt.subplots()\n    return fig"])
    assert "import matplotlib.pyplot as plt" in got.code.splitlines()


# --- nbgrader source notebooks --------------------------------------------------------------

def _released_answers(path: Path) -> list[tuple[str, str]]:
    """(kata slug, released source) of each answer cell, through nbgrader's own ClearSolutions."""
    from nbgrader.preprocessors import ClearSolutions

    nb, _ = ClearSolutions().preprocess(nbformat.read(path, as_version=4), {})
    return [(c.metadata["nbgrader"]["grade_id"].removesuffix("-answer"), c.source) for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")]


def _docstrings(code: str) -> dict[str, str | None]:
    return {n.name: ast.get_docstring(n) for n in ast.walk(ast.parse(code))
            if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


@pytest.mark.parametrize("path", ASSIGNMENTS, ids=lambda p: p.parent.name)
def test_released_answer_cells_are_the_stubs(path):
    answers = _released_answers(path)
    assert answers
    for slug, released in answers:
        kata = get(slug)
        assert is_stub(released.encode(), kata.functions), released
        # Signatures and docstrings survive the release (class katas included).
        stub = _docstrings(kata.stub)
        assert {name: doc for name, doc in _docstrings(released).items() if name in stub} == stub, slug


def test_answer_cells_hold_the_references():
    for path in ASSIGNMENTS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution"):
                kata = get(meta["grade_id"].removesuffix("-answer"))
                assert "### BEGIN SOLUTION" in cell.source
                assert not is_stub(cell.source.encode(), kata.functions), kata.slug
                compile(cell.source, kata.slug, "exec")


@pytest.mark.parametrize("code, stub", [
    ("def f(x):\n    '''doc'''\n    raise NotImplementedError('later')", True),
    ("def f(x):\n    raise NotImplementedError('later')\ndef f(x):\n    return x", False),
    ("@functools.cache\ndef f(x):\n    raise NotImplementedError", False),
    ("def f(x):\n    raise NotImplementedError\nfrom math import sqrt as f", False),
    ("class f:\n    '''doc'''\n    def a(self):\n        raise NotImplementedError", True),
    ("class f(Base):\n    def a(self):\n        raise NotImplementedError", False),
    ("class f:\n    def a(self):\n        raise NotImplementedError\n    b = len", False),
])
def test_stub_detection(code, stub):
    assert is_stub(code.encode(), ("f",)) is stub
