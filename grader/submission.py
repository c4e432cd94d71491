"""Find the code for each kata in a submission: a folder, a .py file or a notebook.

Nothing here runs student code; it reads bytes and checks them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from ._errors import UsageError
from .katas import Kata

MAX_SOURCE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """The code to grade for one kata, or why there is none."""

    code: bytes | None = None
    problem: str | None = None  # set: the kata gets 0 with this reason
    origin: str = ""
    absent: bool = False  # no file for this kata at all: "not attempted"
    notes: tuple[str, ...] = ()  # what was left out of a notebook, for the report


def check_source(data: bytes, origin: str) -> Source:
    if len(data) > MAX_SOURCE_BYTES:
        return Source(problem=f"{origin} is {len(data) / 1e6:.1f} MB; the limit is "
                      f"{MAX_SOURCE_BYTES // (1024 * 1024)} MiB", origin=origin)
    if b"\x00" in data:
        return Source(problem=f"{origin} is a binary file, not Python source", origin=origin)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Source(problem=f"{origin} is not UTF-8 text (byte {exc.start}); save it as UTF-8", origin=origin)
    if not text.strip():
        return Source(problem=f"{origin} is empty", origin=origin)
    try:
        ast.parse(text, filename=origin)
    except SyntaxError as exc:
        return Source(problem=f"{origin} has a syntax error on line {exc.lineno}: {exc.msg}", origin=origin)
    return Source(code=data, origin=origin)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def load(path: Path, katas: list[Kata]) -> dict[str, Source]:
    """Map each kata slug to its source in the submission at ``path``."""
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    if path.is_dir():
        out = {}
        for kata in katas:
            file = path / f"{kata.slug}.py"
            out[kata.slug] = check_source(_read(file), file.name) if file.is_file() else Source(
                problem=f"no {kata.slug}.py in {path.name}/", absent=True)
        return out
    if path.suffix == ".ipynb":
        from dataclasses import replace

        from ._errors import SubmissionError
        from .notebook import extract

        try:
            extracted = extract(_read(path), path.name)
        except SubmissionError as exc:
            return {kata.slug: Source(problem=str(exc), origin=path.name) for kata in katas}
        source = replace(check_source(extracted.code.encode("utf-8"), path.name), notes=tuple(extracted.notes))
        return {kata.slug: source for kata in katas}
    elif path.suffix == ".py":
        data = _read(path)
    else:
        raise UsageError(f"{path} is neither a folder, a .py file nor a notebook (.ipynb)")
    source = check_source(data, path.name)
    return {kata.slug: source for kata in katas}
