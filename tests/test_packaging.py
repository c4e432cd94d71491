"""The distribution: one import name, the generated views in sync, an import graph without circles."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gradkata.katas import views
from gradkata.katas._kata import PROJECT_ROOT


@pytest.mark.slow
def test_the_wheel_installs_one_import_package(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "--disable-pip-version-check", "-w", str(tmp_path), str(PROJECT_ROOT)],
                   check=True, capture_output=True)
    [wheel] = tmp_path.glob("gradkata-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"gradkata"}, top
    # Data the engine reads at run time, and the typing marker, travel with it.
    for needed in ("gradkata/py.typed", "gradkata/katas/suite.ini", "gradkata/katas/clip_grad_norm/reference.py",
                   "gradkata/katas/clip_grad_norm/driver.py"):
        assert needed in names


def test_exercises_and_solutions_are_in_sync_with_the_kata_folders() -> None:
    stale = views.drifted(views.generate())
    assert not stale, f"run `gradkata katas sync`: {[str(p.relative_to(PROJECT_ROOT)) for p in stale]}"


def test_views_drift_is_detected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = views.generate()
    path, text = next(iter(built.items()))
    copy = tmp_path / path.name
    copy.write_text(text + "# edited by hand\n")
    assert views.drifted({copy: text}) == [copy]
    assert views.drifted({tmp_path / "missing.py": text}) == [tmp_path / "missing.py"]


def test_no_import_circles_and_no_import_back_up() -> None:
    script = PROJECT_ROOT / "scripts" / "import_graph.py"
    run = subprocess.run([sys.executable, str(script), "--all"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed (pip install mypy)")
def test_mypy_is_clean() -> None:
    # The type gate of CI: the package as imported, with pyproject's [tool.mypy] settings.
    run = subprocess.run(["bash", str(PROJECT_ROOT / "scripts" / "typecheck.sh")], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, env={**os.environ, "PYTHON": sys.executable})
    assert run.returncode == 0, f"mypy found type errors (run `bash scripts/typecheck.sh`):\n{run.stdout}{run.stderr}"
