"""nbgrader's scores from gradkata, decided outside the student's kernel.

nbgrader's autograder runs the submitted notebook in a kernel and reads each
test cell's points from that cell's output. The kernel is the student's: a
cell of theirs can rebind ``autograde`` or ``check``, replace the grading
client (``gradkata.notebook_check._server``), patch ``sys.modules``, importlib
or IPython's display hook, and make the test cell show any number (or nothing,
which nbgrader reads as full credit). No check made *inside* that kernel can
be trusted, a fresh re-import or a signed token included: the code checking it
runs where the student's code runs, and the number nbgrader reads is printed
there too.

So the number does not come from there. :class:`GradkataScores` is an nbgrader
preprocessor that runs in nbgrader's own process after the kernel is done:
for every graded cell of a gradkata kata (grade id ``<slug>-tests``) it grades
the notebook's *source* with gradkata, exactly as ``gradkata grade --seed 1
notebook.ipynb`` does (the sandboxed worker, the hidden suite), and replaces
the cell's outputs with that verdict and its points. Whatever the kernel
printed, raised or returned in that cell is discarded. The student's view
while working (``check`` in their own kernel) is unchanged: forging it fools
only themselves.

Enable it in the course's ``nbgrader_config.py``::

    from gradkata.notebooks.nbgrader_scores import use_gradkata_scores
    use_gradkata_scores(c)
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

SUFFIX = "-tests"


def graded_katas(nb: nbformat.NotebookNode) -> dict[int, str]:
    """Index of each graded cell of a gradkata kata, and its kata (from nbgrader's grade id)."""
    from ..katas import SLUGS

    found = {}
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        grade_id = str(meta.get("grade_id", ""))
        if cell.cell_type == "code" and meta.get("grade") and grade_id.endswith(SUFFIX):
            slug = grade_id[: -len(SUFFIX)]
            if slug in SLUGS:
                found[i] = slug
    return found


class GradkataScores(Preprocessor):
    """Replace each gradkata test cell's outputs with gradkata's own verdict on the notebook's source."""

    enabled = Bool(True, help="nbconvert skips a preprocessor that is not enabled").tag(config=True)

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        cells = graded_katas(nb)
        if not cells:
            return nb, resources
        from ..api import grade
        from ..notebook_check import DEFAULT_SEED, _report
        from ..settings import GradingSettings

        with tempfile.TemporaryDirectory(prefix="gradkata-nbgrader-") as folder:
            path = Path(folder) / "submission.ipynb"
            nbformat.write(nb, path)
            [result] = grade([path], sorted(set(cells.values())), GradingSettings(seed=DEFAULT_SEED))
        by_slug = {k.slug: k for k in result.katas}
        notes = [n for n in result.notes if "left out" not in n]
        for i, slug in cells.items():
            kata = by_slug[slug]
            points = max(0.0, min(kata.score, float(nb.cells[i].metadata["nbgrader"].get("points", kata.score))))
            nb.cells[i].outputs = [
                nbformat.v4.new_output("stream", name="stdout", text=_report(kata, notes) + "\n"),
                nbformat.v4.new_output("execute_result", data={"text/plain": repr(points)},
                                       execution_count=nb.cells[i].get("execution_count")),
            ]
            self.log.info("gradkata: %s scored %s from the notebook's source", slug, points)
        return nb, resources


def use_gradkata_scores(c: Any) -> None:
    """Put :class:`GradkataScores` into nbgrader's autograde pipeline, just before the scores are saved."""
    from nbgrader.converters import Autograde  # type: ignore[import-untyped]
    from nbgrader.preprocessors import SaveAutoGrades  # type: ignore[import-untyped]

    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    steps.insert(steps.index(SaveAutoGrades), GradkataScores)
    c.Autograde.autograde_preprocessors = steps
