"""The students of a batch: one entry each in the submissions folder, and a hash of its content."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .._errors import UsageError

SKIPPED_DIRS = {"__pycache__", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class Entry:
    student: str
    path: Path


def _gradable(path: Path) -> bool:
    if path.name.startswith("."):
        return False  # .DS_Store, editor swap files, hidden folders
    return path.is_dir() or path.suffix in (".py", ".ipynb")


def discover(folder: Path) -> list[Entry]:
    """One entry per student: each folder, .py or .ipynb directly inside ``folder``."""
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder; grade-batch wants a folder with one entry per student")
    paths = sorted(p for p in folder.iterdir() if _gradable(p))
    stems: dict[str, int] = {}
    for p in paths:
        stems[p.stem] = stems.get(p.stem, 0) + 1
    # The student is the entry's name without its suffix, unless two entries
    # share a stem (alice.py and alice.ipynb): then the full name keeps them apart.
    return [Entry(p.stem if stems[p.stem] == 1 else p.name, p) for p in paths]


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*")
                  if p.is_file() and not SKIPPED_DIRS.intersection(p.relative_to(path).parts))


def content_hash(path: Path) -> str:
    """Hash of every file of the entry (relative names and bytes): any edit changes it."""
    h = hashlib.blake2b(digest_size=16)
    for file in _files(path):
        rel = file.name if file == path else file.relative_to(path).as_posix()
        try:
            data = file.read_bytes()
        except OSError:
            data = b"<unreadable>"
        h.update(rel.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
    return h.hexdigest()
