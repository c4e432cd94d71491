"""Build the autograder zip: setup.sh and run_autograder at the root, the grader beside them.

Gradescope unzips the bundle into /autograder/source, runs setup.sh once to
build the image, then run_autograder in a fresh container per submission.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ..katas._kata import PROJECT_ROOT

TORCH = "torch==2.13.0"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
# The project as pip installs it; tests, notebooks and benchmarks stay home.
SHIPPED = ("pyproject.toml", "setup.py", "README.md", "grader")
SKIP_PARTS = {"__pycache__", ".pytest_cache", ".hypothesis"}

# A file of its own (a shell script one can read, lint and test); the pins above must match it.
SETUP_SH = (Path(__file__).parent / "setup.sh").read_text()

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this once per submission. Every path can be moved with an
# environment variable, so a test can run it against a fake /autograder tree.
set -uo pipefail
ROOT="${GRADKATA_AUTOGRADER_ROOT:-/autograder}"
SOURCE="${GRADKATA_SOURCE:-$ROOT/source}"
PYTHON="${GRADKATA_PYTHON:-$ROOT/venv/bin/python}"
SUBMISSION="${GRADKATA_SUBMISSION:-$ROOT/submission}"
RESULTS="${GRADKATA_RESULTS:-$ROOT/results/results.json}"
export PYTHONPATH="$SOURCE${PYTHONPATH:+:$PYTHONPATH}"
exec "$PYTHON" -m gradkata.gradescope.autograde --config "$SOURCE/gradkata.json" \\
    --submission "$SUBMISSION" --results "$RESULTS"
"""


@dataclass
class BundleConfig:
    """How every submission is graded; stored in the bundle as gradkata.json."""

    hidden_visibility: str = "after_due_date"
    examples: int = 30
    seed: int = 1
    katas: list[str] | None = None
    call_s: float | None = None
    tiers: dict[str, float] | None = None  # the course's tier weights (gradkata.tiers); None: the default

    @classmethod
    def create(cls, *, hidden_visibility: str, examples: int, seed: int | None, katas: list[str] | None,
               call_s: float | None, config: str | None = None) -> "BundleConfig":
        from ..settings import new_seed
        from ..tiers import TierPolicy

        # One seed for the assignment: a regrade on Gradescope meets the same examples.
        # The weights are read now and stored: the bundle needs no config file of its own.
        return cls(hidden_visibility, examples, seed if seed is not None else new_seed(), katas, call_s,
                   TierPolicy.resolve(config).to_dict())

    @classmethod
    def load(cls, path: Path) -> "BundleConfig":
        return cls(**json.loads(path.read_text()))


def _project_files() -> list[Path]:
    files = []
    for name in SHIPPED:
        path = PROJECT_ROOT / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += [p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix != ".pyc"
                      and not SKIP_PARTS.intersection(p.relative_to(PROJECT_ROOT).parts)]
    return files


def _add(zf: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    zf.writestr(info, data)


def build_bundle(out: Path, config: BundleConfig) -> list[str]:
    """Write the zip; returns the names inside it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as zf:
        _add(zf, "setup.sh", SETUP_SH.encode(), executable=True)
        _add(zf, "run_autograder", RUN_AUTOGRADER.encode(), executable=True)
        _add(zf, "gradkata.json", (json.dumps(asdict(config), indent=2) + "\n").encode())
        for path in _project_files():
            _add(zf, path.relative_to(PROJECT_ROOT).as_posix(), path.read_bytes())
        return zf.namelist()
