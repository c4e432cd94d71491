"""Write the hand-out: stubs, worked examples, notebooks, a README. Nothing else is copied.

Everything is generated from the kata definitions or copied from the student
notebooks; notebooks that still hold nbgrader solution or hidden-test regions
are refused, so instructor sources cannot slip in.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .._errors import UsageError
from ..katas import Kata, all_katas
from ..katas._kata import PROJECT_ROOT

NOTEBOOKS = PROJECT_ROOT / "notebooks"
# nbgrader's markers for instructor-only regions (see nbgrader's ClearSolutions
# and ClearHiddenTests preprocessors): a notebook with any is a source, not a release.
INSTRUCTOR_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def readme(katas: list[Kata], notebooks: list[str]) -> str:
    lines = ["# Gradient clipping katas", "",
             "Implement each function in `exercises/`. Every stub has the exact signature the grader calls",
             "and a docstring that explains what to compute; its body raises `NotImplementedError` until",
             "you replace it. Use PyTorch (and NumPy where the stub says so), but do not call the built-in",
             "you are asked to re-implement: that earns no credit.", "", "## The katas", ""]
    for k in katas:
        lines.append(f"- `exercises/{k.slug}.py`: **{k.title}**. {k.summary}")
    lines += ["", "## Checking your work", "",
              "`EXAMPLES.md` lists the worked examples: the inputs and what a correct solution returns.",
              "If your course installed gradkata, `gradkata check <kata>` runs those examples on your file",
              "and `gradkata list` shows which stubs you have edited.", "",
              "## Submitting", "",
              "Hand in the `exercises/` files you edited (keep their names), or one notebook. Each kata is",
              "graded on its own: a file that fails to import or never returns loses only that kata.", ""]
    if notebooks:
        lines += ["## Notebooks", "", *[f"- `notebooks/{n}`" for n in notebooks], ""]
    return "\n".join(lines)


def _student_notebooks() -> list[Path]:
    if not NOTEBOOKS.is_dir():
        return []
    keep = []
    for nb in sorted(NOTEBOOKS.glob("*.ipynb")):
        text = nb.read_text(encoding="utf-8", errors="replace")
        if not any(marker in text for marker in INSTRUCTOR_MARKERS):
            keep.append(nb)
    return keep


def build_release(out: Path, *, force: bool = False) -> list[Path]:
    """Write the hand-out into ``out``; returns the files written."""
    if out.exists() and any(out.iterdir()) and not force:
        raise UsageError(f"{out} is not empty; pick a new folder or pass --force")
    katas = all_katas()
    written: list[Path] = []

    def write(rel: str, text: str) -> None:
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    for kata in katas:
        write(f"exercises/{kata.slug}.py", kata.render_stub())
    from .examples import examples_markdown  # runs the suites: pytest and Hypothesis, only when needed

    write("EXAMPLES.md", examples_markdown(katas))
    notebooks = _student_notebooks()
    for nb in notebooks:
        target = out / "notebooks" / nb.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(nb, target)
        written.append(target)
    write("README.md", readme(katas, [nb.name for nb in notebooks]))
    return written
