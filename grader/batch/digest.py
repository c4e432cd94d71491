"""A digest of the grading code, so that fixing a test or a reference re-grades the batch."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from .._version import __version__
from ..katas._kata import PROJECT_ROOT

GRADER = Path(__file__).resolve().parent.parent
# What decides a score: the engine, the worker and its shared helpers, and for
# each graded kata its definition, suite, mutants, harness and reference.
# Reports, the CLI and other katas do not.
ENGINE = ("*.py", "katas/_kata.py", "katas/suite.ini", "worker/*.py", "worker/harness/_*.py")
KATA_FILES = ("katas/{slug}/*.py",)
# Set it to pin the recorded version (a test, or an instructor sure that an
# edit changes no score): unchanged submissions are then not re-graded.
OVERRIDE = "GRADKATA_GRADER_VERSION"


@functools.lru_cache(maxsize=8)
def grader_digest(slugs: tuple[str, ...]) -> str:
    patterns = ENGINE + tuple(p.format(slug=s) for s in slugs for p in KATA_FILES)
    files = sorted({p for pattern in patterns for p in GRADER.glob(pattern)})
    h = hashlib.blake2b(digest_size=8)
    for file in files:
        data = file.read_bytes() if file.is_file() else b""
        h.update(file.relative_to(PROJECT_ROOT).as_posix().encode() + b"\0" + data)
    return h.hexdigest()


def grader_version(slugs: list[str] | tuple[str, ...]) -> str:
    """``<release>+<digest>``: recorded with every gradebook row."""
    return os.environ.get(OVERRIDE) or f"{__version__}+{grader_digest(tuple(slugs))}"
