"""Write the gradebook out: one CSV for the course, one file per student for feedback and results.json."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from ..batch.gradebook import Gradebook
from ..report import results_json
from ..tiers import tier_order
from .feedback import feedback_markdown


def kata_columns(book: Gradebook) -> list[str]:
    """Katas in the order of the batch's settings, then any others found in rows."""
    slugs = list(book.settings().get("katas", []))
    for row in book.rows():
        slugs += [k.slug for k in row.result.katas if k.slug not in slugs]
    return slugs


def tier_columns(book: Gradebook, slugs: list[str]) -> list[tuple[str, str]]:
    """(kata, tier) pairs found in the rows, katas in column order, tiers in tier order."""
    found: dict[str, set[str]] = {s: set() for s in slugs}
    for row in book.rows():
        for k in row.result.katas:
            found.setdefault(k.slug, set()).update(k.tiers)
    return [(s, t) for s in slugs for t in sorted(found.get(s, ()), key=tier_order)]


def write_csv(book: Gradebook, target: Path) -> int:
    """One row per student: each kata's (weighted) score, then its raw points per tier
    (columns ``kata:tier``), then the totals."""
    slugs = kata_columns(book)
    pairs = tier_columns(book, slugs)
    rows = book.rows()
    with open(target, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["student", *slugs, *(f"{s}:{t}" for s, t in pairs), "total", "max_total"])
        for row in rows:
            by_slug = {k.slug: k for k in row.result.katas}
            tiers = [by_slug[s].tiers.get(t) if s in by_slug else None for s, t in pairs]
            out.writerow([row.student, *(f"{by_slug[s].score:g}" if s in by_slug else "" for s in slugs),
                          *(f"{t.score:g}" if t is not None else "" for t in tiers),
                          f"{row.score:g}", f"{row.max_score:g}"])
    return len(rows)


def safe_name(student: str) -> str:
    """A file name for a student that cannot climb out of the export folder."""
    name = re.sub(r"[^A-Za-z0-9._@+-]", "_", student).lstrip(".")
    return name or "_"


def write_feedback(book: Gradebook, folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    rows = book.rows()
    for row in rows:
        (folder / f"{safe_name(row.student)}.md").write_text(feedback_markdown(row.student, row.result),
                                                             encoding="utf-8")
    return len(rows)


def write_json(book: Gradebook, folder: Path, hidden_visibility: str = "visible") -> int:
    folder.mkdir(parents=True, exist_ok=True)
    rows = book.rows()
    for row in rows:
        data = results_json(row.result, hidden_visibility)
        (folder / f"{safe_name(row.student)}.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return len(rows)
