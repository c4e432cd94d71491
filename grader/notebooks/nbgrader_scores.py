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
only themselves. Under ``nbgrader autograde`` the kernels it starts grade
nothing (:func:`gradkata.notebook_check.scored_outside`): their verdicts would
be replaced, and each would start a grading server for them.

Enable it in the course's ``nbgrader_config.py``::

    from gradkata.notebooks.nbgrader_scores import use_gradkata_scores
    use_gradkata_scores(c)

The course's tier weights (:mod:`gradkata.tiers`) apply here as in ``gradkata
grade --config``: from ``c.GradkataScores.config_path`` (or
``use_gradkata_scores(c, config_path="course.toml")``), else
``$GRADKATA_CONFIG``, else a ``gradkata.toml`` in the course root
(``c.CourseDirectory.root``), else the default weights. A cell earns its
``points`` times the share of the kata's weighted score, so a full answer fills
the cell whatever the weights.
"""

from __future__ import annotations

import atexit
import os
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

SUFFIX = "-tests"
COURSE_CONFIG = "gradkata.toml"  # read from the course root when nothing else names a config


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
    config_path = Unicode("", help="The course config (a TOML with a [tiers] table of weights, as for "
                          "`gradkata grade --config`). Empty: $GRADKATA_CONFIG, else gradkata.toml in the "
                          "course root, else the default weights.").tag(config=True)

    def config_file(self) -> Path | None:
        """The course config this preprocessor reads, if any (see ``config_path``)."""
        from ..tiers import CONFIG_ENV

        if self.config_path:
            return Path(self.config_path)
        if os.environ.get(CONFIG_ENV):
            return Path(os.environ[CONFIG_ENV])
        root = self.config["CourseDirectory"].get("root", ".") if "CourseDirectory" in self.config else "."
        found = Path(str(root)) / COURSE_CONFIG
        return found if found.is_file() else None

    def policy(self) -> Any:
        from ..tiers import TierPolicy

        path = self.config_file()
        return TierPolicy.load(path) if path is not None else TierPolicy()

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        cells = graded_katas(nb)
        if not cells:
            return nb, resources
        from ..api import grade_on, select
        from ..notebook_check import DEFAULT_SEED, _report
        from ..settings import GradingSettings

        policy = self.policy()
        with tempfile.TemporaryDirectory(prefix="gradkata-nbgrader-") as folder:
            path = Path(folder) / "submission.ipynb"
            nbformat.write(nb, path)
            # As grade([path], ...) does, on this process's warm zygote: recorded examples replayed, kept on disk.
            [result] = grade_on(_zygote(), [path], select(sorted(set(cells.values()))),
                                GradingSettings(seed=DEFAULT_SEED, policy=policy), keep_examples=True)
        by_slug = {k.slug: k for k in result.katas}
        notes = [n for n in result.notes if "left out" not in n]
        if not policy.is_default():
            notes.append(f"tiers: {policy.describe()} (course config)")
        for i, slug in cells.items():
            kata = by_slug[slug]
            points = cell_points(kata.score, kata.max_score, nb.cells[i].metadata["nbgrader"].get("points"))
            nb.cells[i].outputs = [
                nbformat.v4.new_output("stream", name="stdout", text=_report(kata, notes) + "\n"),
                nbformat.v4.new_output("execute_result", data={"text/plain": repr(points)},
                                       execution_count=nb.cells[i].get("execution_count")),
            ]
            self.log.info("gradkata: %s scored %s from the notebook's source", slug, points)
        return nb, resources


_ZYGOTE: list[Any] = []


def _zygote() -> Any:
    """One warm zygote for this nbgrader process: `nbgrader autograde` grades a class notebook after
    notebook (nbgrader makes a new preprocessor for each), and a zygote start (torch imported, the sandbox
    set up) costs seconds of CPU. The same worker `gradkata grade` shares between its submissions; it
    restarts by itself if it dies, and stops when the process exits."""
    from ..hypothesis_pin import pin_generation
    from ..pool import Zygote

    if not _ZYGOTE:
        pin_generation()  # as grade() does, before the suites are collected
        zygote = Zygote().launch()
        atexit.register(zygote.close)
        _ZYGOTE.append(zygote)
    return _ZYGOTE[0]


def cell_points(score: float, max_score: float, cell: Any) -> float:
    """What a test cell worth ``cell`` points records for a kata scored ``score`` of ``max_score``
    (weighted by the course's tiers): the same share of the cell's points; the score itself where the
    cell has no points or exactly the kata's."""
    if cell is None or max_score <= 0 or float(cell) == max_score:
        return max(0.0, min(score, float(cell) if cell is not None else score))
    return max(0.0, min(float(cell), float(cell) * score / max_score))


def use_gradkata_scores(c: Any, config_path: str | os.PathLike[str] | None = None) -> None:
    """Put :class:`GradkataScores` into nbgrader's autograde pipeline, just before the scores are saved.
    ``config_path``: the course config with its [tiers] weights (default: see ``GradkataScores.config_path``)."""
    if config_path is not None:
        c.GradkataScores.config_path = str(config_path)
    # The kernels nbgrader starts from here on inherit this: under autograde their `autograde`, `check` and
    # `warm_up` then grade nothing (notebook_check.scored_outside), since this preprocessor's verdict
    # replaces the test cells' outputs anyway. Each kernel used to start a grading server for nothing.
    from ..notebook_check import SCORED_ENV

    os.environ[SCORED_ENV] = "1"
    from nbgrader.converters import Autograde  # type: ignore[import-untyped]
    from nbgrader.preprocessors import SaveAutoGrades  # type: ignore[import-untyped]

    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    steps.insert(steps.index(SaveAutoGrades), GradkataScores)
    c.Autograde.autograde_preprocessors = steps
