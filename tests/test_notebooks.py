"""The notebooks: generated from the catalogue, they run, they plot, and .ipynb submissions grade."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from grader.api import grade
from grader.katas import get
from grader.katas._kata import PROJECT_ROOT
from grader.notebook import cells_to_module, extract
from grader.notebooks.build import generate, drifted
from grader.results import Status
from grader._errors import SubmissionError

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


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


def _execute(nb, cwd: Path):
    from nbclient import NotebookClient

    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_with_the_references_and_plots(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    for cell in _tagged(nb, "gradkata-exercise"):
        cell.source = get(cell.metadata["gradkata"]["kata"]).solution_path.read_text()
    _execute(nb, tmp_path)
    for cell in _tagged(nb, "gradkata-check"):
        assert "passed" in _text(cell) and "Every hidden check passed" in _text(cell), _text(cell)
    plots = _tagged(nb, "gradkata-plot")
    assert plots, "every notebook shows at least one plot"
    for cell in plots:
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), cell.source[:80]
    assert not any(o.output_type == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if _tagged(nbformat.read(p, as_version=4), "gradkata-check")],
                         ids=lambda p: p.stem)
def test_notebook_with_the_stubs_reports_not_implemented(path, tmp_path):
    nb = _execute(nbformat.read(path, as_version=4), tmp_path)  # raises if any cell raised
    for cell in _tagged(nb, "gradkata-check"):
        assert "not implemented" in _text(cell), _text(cell)


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
        "import torch\nfrom grader.notebook_check import check\nimport matplotlib.pyplot as plt",
        "EPS = torch.tensor(1e-6)\ndef f(x):\n    return x\nhistory = f(3)",
        "torch.allclose = lambda *a, **k: True\nfig, ax = plt.subplots()\ncheck('clip_grad_norm', f)",
    ])
    body = [line for line in got.code.splitlines() if not line.startswith("#")]
    assert "EPS = torch.tensor(1e-6)" in body and "def f(x):" in body
    for gone in ("torch.allclose = lambda", "plt.subplots", "check(", "history = f(3)", "from grader"):
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
    first, second = grade([bad, good], ["clip_by_value"], seed=1)
    [broken] = first.katas
    assert broken.score == 0 and broken.status is Status.ERROR and "bad.ipynb" in broken.reason
    [fine] = second.katas
    assert fine.score == fine.max_score > 0, fine
    assert any("%load_ext" in n for n in second.notes)
