"""The kata index: what `list` and `mistakes` show, read without importing torch.

The kata folders are the source of truth, but reading them means importing
their definitions, references and mistake catalogues (torch, pytest,
Hypothesis: seconds per command). ``index.json`` is one more generated view of
them, written by `gradkata katas sync` and checked for drift by the tests like
``exercises/`` and ``solutions/``, so that the practice commands answer at once.

``views.index_data()`` is the heavy half (sync and tests); ``load()`` and the ``*_text``
functions are the light half (the commands): they import only the standard library.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

INDEX_PATH = Path(__file__).parent / "index.json"
FORMAT = 1


def stub_digest(text: str) -> str:
    """How `list` tells a student's untouched stub from an edited copy without the stub itself."""
    return hashlib.sha256(text.encode()).hexdigest()


def render(index: dict[str, Any]) -> str:
    return json.dumps(index, indent=1, ensure_ascii=False) + "\n"


def load() -> list[dict[str, Any]]:
    """The katas' entries, in teaching order."""
    try:
        data = json.loads(INDEX_PATH.read_text())
    except FileNotFoundError:
        from .._errors import GradkataError

        raise GradkataError(f"{INDEX_PATH} is missing: run `gradkata katas sync` to write it") from None
    if data.get("format") != FORMAT:
        from .._errors import GradkataError

        raise GradkataError(f"{INDEX_PATH} has format {data.get('format')!r}, not {FORMAT}: "
                            "run `gradkata katas sync`")
    return list(data["katas"])


def entry(slug: str) -> dict[str, Any]:
    entries = load()
    for kata in entries:
        if kata["slug"] == slug:
            return kata
    from .._errors import UsageError

    raise UsageError(f"unknown kata {slug!r}; `gradkata list` shows the katas "
                     f"({', '.join(k['slug'] for k in entries)})")


def list_text(folder: Path) -> str:
    """The text of `gradkata list`: each kata, its points and the state of the student's copy."""
    lines = []
    for kata in load():
        file = folder / f"{kata['slug']}.py"
        if not file.is_file():
            state = "missing"
        elif stub_digest(file.read_text(errors="replace")) == kata["stub_sha256"]:
            state = "stub"
        else:
            state = "edited"
        lines.append(f"{kata['slug']:28} {kata['points']:5.1f} pts  {state:8} {kata['title']}")
    return "\n".join(lines)


def mistakes_text(slug: str | None = None, verbose: bool = False) -> str:
    """The text of `gradkata mistakes [SLUG]` (the same as ``gradkata.mistakes.listing``)."""
    katas = [entry(slug)] if slug else load()
    lines = []
    for kata in katas:
        mistakes = kata["mistakes"]
        lines.append(f"{kata['slug']} ({len(mistakes)} mistakes)")
        for m in mistakes:
            lines.append(f"  {m['id']:48} {m['title']}")
            if verbose:
                lines.extend(f"      {line}" for line in m["feedback"].splitlines())
    return "\n".join(lines)
