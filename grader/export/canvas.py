"""`gradkata export --canvas FILE --roster ROSTER.csv`: the CSV Canvas's gradebook import reads.

Canvas matches an imported row to a student by its ``ID`` (Canvas's user id) or
``SIS User ID``/``SIS Login ID``, not by the names submissions arrive under, so
a roster maps each submission to a Canvas identity. The roster is a CSV with
Canvas's own identity columns (``Student, ID, SIS User ID, SIS Login ID,
Section``: the first columns of Canvas's gradebook export, which can serve
as the roster) and optionally a ``submission`` column with the name the
student's entry has in the gradebook. Without that column a gradebook student
matches the roster row whose SIS Login ID, SIS User ID or ID equals their name.

Nothing is dropped quietly: gradebook students the roster cannot place, and
roster students without a graded submission, are both returned (and printed by
the command). The latter keep empty cells, which Canvas's import leaves alone.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from .._errors import UsageError
from ..batch.gradebook import Gradebook, Row
from .grades import kata_columns

IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
# Fields a roster row may be matched on, in order, when it has no `submission` column.
MATCH_ON = ["SIS Login ID", "SIS User ID", "ID"]
# Canvas's export puts this pseudo-student second; it is not a student.
POINTS_ROW = "Points Possible"


@dataclass
class CanvasExport:
    written: int = 0  # roster students with grades in the file
    unmatched: list[str] = field(default_factory=list)  # gradebook students the roster does not place
    ambiguous: list[str] = field(default_factory=list)  # gradebook students the roster places twice
    no_submission: list[str] = field(default_factory=list)  # roster students without a gradebook row


def read_roster(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise UsageError(f"no roster at {path}: give a CSV with the columns {', '.join(IDENTITY)} "
                         "(Canvas's gradebook export will do) and optionally `submission`")
    with open(path, newline="", encoding="utf-8-sig") as fh:  # -sig: Excel's byte-order mark
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in ("Student", "ID") if c not in header]
        if missing:
            raise UsageError(f"{path} lacks the column(s) {', '.join(missing)}; a roster needs "
                             f"{', '.join(IDENTITY)} (Canvas's gradebook export has them)")
        rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    return [r for r in rows if r.get("Student") != POINTS_ROW and any(r.values())]


def _match(roster: list[dict[str, str]], student: str) -> list[int]:
    if roster and "submission" in roster[0]:
        return [i for i, r in enumerate(roster) if r.get("submission") == student]
    for key in MATCH_ON:
        hits = [i for i, r in enumerate(roster) if r.get(key) and r[key] == student]
        if hits:
            return hits
    return []


def _cell(value: float) -> str:
    return f"{value:g}"


def write_canvas(book: Gradebook, roster_path: Path, target: Path, total: str | None = None) -> CanvasExport:
    """Write Canvas's import CSV; ``total``: one column of that name with the total, instead of one per kata."""
    roster = read_roster(roster_path)
    rows = book.rows()
    slugs = kata_columns(book)
    outcome = CanvasExport()
    placed: dict[int, Row] = {}
    for row in rows:
        hits = _match(roster, row.student)
        if not hits:
            outcome.unmatched.append(row.student)
        elif len(hits) > 1 or hits[0] in placed:
            outcome.ambiguous.append(row.student)
        else:
            placed[hits[0]] = row
    columns = [total] if total else [f"gradkata: {slug}" for slug in slugs]
    with open(target, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow([*IDENTITY, *columns])
        # Canvas reads the points of assignments the import creates from this row.
        possible = _possible(rows, slugs)
        out.writerow([f"    {POINTS_ROW}", "", "", "", "", *([_cell(sum(possible.values()))] if total else
                                                               [_cell(possible[s]) for s in slugs])])
        for i, person in enumerate(roster):
            graded = placed.get(i)
            if graded is None:
                outcome.no_submission.append(person["Student"])
                cells = [""] * len(columns)
            else:
                outcome.written += 1
                by_slug = {k.slug: k.score for k in graded.result.katas}
                cells = ([_cell(graded.score)] if total else
                         [_cell(by_slug[s]) if s in by_slug else "" for s in slugs])
            out.writerow([person.get(c, "") for c in IDENTITY] + cells)
    return outcome


def _possible(rows: list[Row], slugs: list[str]) -> dict[str, float]:
    points = {slug: 0.0 for slug in slugs}
    for row in rows:
        for kata in row.result.katas:
            points[kata.slug] = max(points.get(kata.slug, 0.0), kata.max_score)
    return points
