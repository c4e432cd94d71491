"""Generate the self-study notebooks and the nbgrader source notebooks from the catalogue.

Notebooks are written without outputs; cells carry stable ids and tags so the
tests can find exercises, checks and plots:

* ``gradkata-exercise`` (metadata ``gradkata.kata``): the kata's stub;
* ``gradkata-check``: grades the function above in the sandbox;
* ``gradkata-plot``: a cell that draws a figure.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ..katas import Kata, all_katas
from ..katas._kata import PROJECT_ROOT
from .content import CHAPTERS, OTHERS, SETUP, Chapter
from .solution_cell import solution_source

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
NBGRADER_DIR = PROJECT_ROOT / "nbgrader"
SCHEMA_VERSION = 3
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _id(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:12]


def _md(key: str, text: str) -> nbformat.NotebookNode:
    cell = new_markdown_cell(textwrap.dedent(text).strip())
    cell.id = _id(key, "md")
    return cell


def _code(key: str, source: str, tags: tuple[str, ...] = (), **meta: object) -> nbformat.NotebookNode:
    cell = new_code_cell(source.strip())
    cell.id = _id(key, "code")
    if tags:
        cell.metadata["tags"] = list(tags)
    cell.metadata.update(meta)
    return cell


def _notebook(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def chapter_katas(chapter: Chapter, katas: list[Kata]) -> list[Kata]:
    """A chapter's katas: those it names, then those of its topics that no chapter names."""
    named = {slug for c in CHAPTERS for slug in c.katas}
    return [k for k in katas if k.slug in chapter.katas or (k.topic in chapter.topics and k.slug not in named)]


def _chapters(katas: list[Kata]) -> list[tuple[Chapter, list[Kata]]]:
    placed = {k.slug for c in CHAPTERS for k in chapter_katas(c, katas)}
    rest = [k for k in katas if k.slug not in placed]
    out = [(c, chapter_katas(c, katas)) for c in CHAPTERS]
    return out + ([(OTHERS, rest)] if rest else [])


def _check_call(kata: Kata, helper: str = "check") -> str:
    fn = f", {kata.functions[0]}" if len(kata.functions) == 1 else ""
    return f'{helper}("{kata.slug}"{fn})'


def _demo_cells(key: str, demos) -> list[nbformat.NotebookNode]:
    cells = []
    for i, demo in enumerate(demos):
        cells.append(_md(f"{key}/demo{i}", demo.text))
        for j, code in enumerate(demo.code):
            plots = demo.plots and ("plt." in code or "ax." in code)
            cells.append(_code(f"{key}/demo{i}/{j}", code, ("gradkata-plot",) if plots else ()))
    return cells


def self_study(chapter: Chapter, katas: list[Kata]) -> nbformat.NotebookNode:
    key = chapter.stem
    cells = [_md(key, f"# {chapter.title}\n\n{chapter.intro}"), _code(f"{key}/setup", SETUP)]
    cells += _demo_cells(f"{key}/before", chapter.before)
    for kata in katas:
        cells.append(_md(f"{key}/{kata.slug}", f"## Exercise: {kata.title}\n\n{kata.summary}\n\n"
                         "Write your code in the next cell, run it, then run the check below it."))
        cells.append(_code(f"{key}/{kata.slug}/exercise", kata.stub, ("gradkata-exercise",),
                           gradkata={"kata": kata.slug}))
        cells.append(_code(f"{key}/{kata.slug}/check", _check_call(kata), ("gradkata-check",),
                           gradkata={"kata": kata.slug}))
    cells += _demo_cells(f"{key}/after", chapter.after)
    return _notebook(cells)


# --- nbgrader --------------------------------------------------------------------------------

NBGRADER_SETUP = """from gradkata.notebook_check import autograde, check, warm_up

warm_up()  # start gradkata's sandboxed grader in the background"""

AUTOGRADE_NOTE = """# Graded by gradkata in its sandbox, from this notebook's source text:
# nothing defined or patched in this kernel can change the result.
"""


def _nbgrader_meta(grade_id: str, *, grade: bool, solution: bool, locked: bool,
                   points: float | None = None) -> dict:
    meta: dict = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
                  "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def assignment(chapter: Chapter, katas: list[Kata], points: dict[str, float]) -> nbformat.NotebookNode:
    key = f"nbgrader/{chapter.stem}"
    intro = _md(key, f"# {chapter.title}\n\n{chapter.intro}\n\nEach exercise is graded by gradkata's hidden "
                "tests when the assignment is autograded. The cell under each exercise runs the worked "
                "examples now, so you can see how you are doing.")
    intro.metadata["nbgrader"] = _nbgrader_meta("intro", grade=False, solution=False, locked=True)
    setup = _code(f"{key}/setup", NBGRADER_SETUP)
    setup.metadata["nbgrader"] = _nbgrader_meta("setup", grade=False, solution=False, locked=True)
    cells = [intro, setup]
    for kata in katas:
        text = _md(f"{key}/{kata.slug}", f"## {kata.title}\n\n{kata.summary}")
        text.metadata["nbgrader"] = _nbgrader_meta(f"{kata.slug}-text", grade=False, solution=False, locked=True)
        answer = _code(f"{key}/{kata.slug}/answer", solution_source(kata))
        answer.metadata["nbgrader"] = _nbgrader_meta(f"{kata.slug}-answer", grade=False, solution=True,
                                                     locked=False)
        test_source = (f"{AUTOGRADE_NOTE}{_visible_call(kata)}\n"
                       f"### BEGIN HIDDEN TESTS\n{_check_call(kata, 'autograde')}\n### END HIDDEN TESTS")
        test = _code(f"{key}/{kata.slug}/tests", test_source)
        test.metadata["nbgrader"] = _nbgrader_meta(f"{kata.slug}-tests", grade=True, solution=False, locked=True,
                                                   points=points[kata.slug])
        cells += [text, answer, test]
    return _notebook(cells)


def _visible_call(kata: Kata) -> str:
    fn = f", {kata.functions[0]}" if len(kata.functions) == 1 else ""
    return f'check("{kata.slug}"{fn}, visible_only=True)  # the worked examples'


# --- writing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Built:
    path: Path
    notebook: nbformat.NotebookNode


def generate(katas: list[Kata] | None = None, *, points: dict[str, float] | None = None) -> list[Built]:
    """Every notebook the generator owns, in memory."""
    katas = katas if katas is not None else all_katas()
    if points is None:
        from ..runner import points_of

        points = points_of(katas)
    out = []
    for chapter, members in _chapters(katas):
        out.append(Built(NOTEBOOKS_DIR / f"{chapter.stem}.ipynb", self_study(chapter, members)))
        if members:
            out.append(Built(NBGRADER_DIR / "source" / chapter.stem / f"{chapter.stem}.ipynb",
                             assignment(chapter, members, points)))
    return out


def render(nb: nbformat.NotebookNode) -> str:
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def comparable(nb: nbformat.NotebookNode) -> list[tuple]:
    """Cell types, sources and metadata: what the drift test compares (never outputs)."""
    meta = {k: v for k, v in nb.metadata.items() if k in ("kernelspec",)}
    volatile = ("execution", "collapsed", "scrolled")
    return [("notebook", json.dumps(meta, sort_keys=True))] + [
        (c.cell_type, c.source, json.dumps({k: v for k, v in c.metadata.items() if k not in volatile}, sort_keys=True))
        for c in nb.cells]


def drifted(built: list[Built]) -> list[Path]:
    """Notebooks on disk that are missing or differ from the generated ones."""
    stale = []
    for item in built:
        try:
            on_disk = nbformat.read(item.path, as_version=4)
        except (OSError, ValueError):
            stale.append(item.path)
            continue
        if comparable(on_disk) != comparable(item.notebook):
            stale.append(item.path)
    return stale


def write(built: list[Built]) -> list[Path]:
    written = []
    for item in built:
        item.path.parent.mkdir(parents=True, exist_ok=True)
        text = render(item.notebook)
        if not item.path.is_file() or item.path.read_text() != text:
            item.path.write_text(text)
            written.append(item.path)
    return written
