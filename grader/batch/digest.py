"""A digest of the grading code, so that fixing a test or a reference re-grades the batch."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from .. import __version__
from ..katas._kata import PROJECT_ROOT

GRADER = Path(__file__).resolve().parent.parent
# What decides a score: the engine, the worker and its harnesses, the suites,
# the mutants and the references. Reports and CLI code do not.
SOURCES = ("*.py", "worker/**/*.py", "katas/**/*.py", "katas/suite.ini")


@functools.lru_cache(maxsize=1)
def grader_digest() -> str:
    h = hashlib.blake2b(digest_size=8)
    files = sorted({p for pattern in SOURCES for p in GRADER.glob(pattern)})
    files += sorted((PROJECT_ROOT / "solutions").glob("*.py"))
    for file in files:
        h.update(file.name.encode() + b"\0" + file.read_bytes())
    return h.hexdigest()


def grader_version() -> str:
    """``<release>+<digest>``: recorded with every gradebook row."""
    return f"{__version__}+{grader_digest()}"
