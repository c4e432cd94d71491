"""What `gradkata grade-batch` shows: a rich progress bar while grading, a table at the end."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..results import SubmissionResult
from .gradebook import Gradebook
from .run import BatchSettings, Outcome, grade_batch


def run_with_progress(folder: Path, book: Gradebook, settings: BatchSettings, console: Console) -> Outcome:
    progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("{task.fields[last]}"), console=console, transient=False)
    task = progress.add_task("grade", total=None, last="")

    def started(n: int) -> None:
        progress.update(task, total=n)

    def landed(student: str, result: SubmissionResult) -> None:
        progress.update(task, advance=1, last=f"{student}: {result.score:g}/{result.max_score:g}")

    with progress:
        return grade_batch(folder, book, settings, on_start=started, on_result=landed)


def table(book: Gradebook, katas: list[str]) -> Table:
    t = Table(title=f"gradebook {book.path}")
    t.add_column("student")
    for slug in katas:
        t.add_column(slug, justify="right")
    t.add_column("total", justify="right", style="bold")
    for row in book.rows():
        by_slug = {k.slug: k for k in row.result.katas}
        cells = [f"{by_slug[s].score:g}/{by_slug[s].max_score:g}" if s in by_slug else "-" for s in katas]
        t.add_row(row.student, *cells, f"{row.score:g}/{row.max_score:g}")
    return t


def summary(outcome: Outcome) -> str:
    per = outcome.grading_s / len(outcome.graded) if outcome.graded else 0.0
    return (f"graded {len(outcome.graded)}, unchanged {len(outcome.skipped)} (seed {outcome.seed}, "
            f"{outcome.examples} examples per property, {outcome.workers} workers) in {outcome.wall_s:.1f} s"
            + (f"; {per:.2f} s of worker time per submission" if outcome.graded else ""))
