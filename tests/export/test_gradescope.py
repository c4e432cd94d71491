"""The Gradescope bundle: its layout, and run_autograder against a fake /autograder tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gradkata.gradescope import BundleConfig, build_bundle, validate
from gradkata.katas._kata import PROJECT_ROOT

REFERENCE = (PROJECT_ROOT / "solutions" / "clip_grad_norm.py").read_text()
BUGGY = REFERENCE.replace("torch.clamp(max_norm / (total + EPS), max=1.0)", "max_norm / (total + EPS)")
ATTACK = """import os
import numpy
import torch

# Make every comparison succeed, then leave before anything can be checked.
torch.allclose = lambda *a, **k: True
numpy.allclose = lambda *a, **k: True


def clip_grad_norm(parameters, max_norm):
    os._exit(0)
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gs") / "autograder.zip"
    build_bundle(out, BundleConfig(hidden_visibility="after_due_date", examples=3, seed=4,
                                   katas=["clip_grad_norm"]))
    return out


def test_bundle_layout(bundle):
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        setup = zf.read("setup.sh").decode()
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    assert {"setup.sh", "run_autograder", "gradkata.json", "pyproject.toml", "grader/api.py"} <= names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert '"torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu' in setup
    assert not any(n.startswith(("tests/", "notebooks/")) or "__pycache__" in n for n in names)


def run_autograder(bundle: Path, root: Path, files: dict[str, str]) -> dict:
    """Unzip like Gradescope (into source/), upload ``files``, run the bundle's run_autograder."""
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    (root / "submission").mkdir()
    for name, text in files.items():
        (root / "submission" / name).write_text(text)
    env = {**os.environ, "GRADKATA_AUTOGRADER_ROOT": str(root), "GRADKATA_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert validate(results) == [], validate(results)
    return results


def test_validator_rejects_malformed_results():
    assert validate({"score": "10", "tests": [{"status": "ok", "visibility": "sometimes"}]}) == [
        "score is not a number", "tests[0].status is 'ok', not passed/failed",
        "tests[0].visibility is 'sometimes'"]
    assert validate({"tests": [{"status": "passed"}]}) == ["no top-level score and not every test has one"]


@pytest.mark.slow
def test_correct_submission_scores_full_marks(bundle, tmp_path):
    results = run_autograder(bundle, tmp_path, {"clip_grad_norm.py": REFERENCE})
    assert results["tests"] and all(t["status"] == "passed" for t in results["tests"])
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0
    hidden = [t for t in results["tests"] if t["visibility"] != "visible"]
    assert hidden and {t["visibility"] for t in hidden} == {"after_due_date"}


@pytest.mark.slow
def test_buggy_submission_loses_points_with_a_message(bundle, tmp_path):
    results = run_autograder(bundle, tmp_path, {"clip_grad_norm.py": BUGGY})
    total = sum(t["max_score"] for t in results["tests"])
    assert 0 < results["score"] < total
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert failed and all(t["output"] for t in failed)


@pytest.mark.slow
def test_attacking_submission_scores_zero(bundle, tmp_path):
    results = run_autograder(bundle, tmp_path, {"clip_grad_norm.py": ATTACK})
    assert results["score"] == 0
    assert "crash" in results["output"]
