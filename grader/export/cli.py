"""`gradkata export`: the command-line side of :mod:`gradkata.export`."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._errors import UsageError
from ..batch.gradebook import DEFAULT_PATH


def add_export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--gradebook", default=str(DEFAULT_PATH), help="SQLite gradebook (default: ./gradebook.sqlite)")
    p.add_argument("--csv", metavar="FILE", help="one row per student, one column per kata, the total")
    p.add_argument("--feedback", metavar="DIR", help="one Markdown feedback file per student")
    p.add_argument("--json", metavar="DIR", help="one Gradescope-style results.json per student (<student>.json)")
    p.add_argument("--canvas", metavar="FILE", help="Canvas's gradebook-import CSV (needs --roster)")
    p.add_argument("--roster", metavar="CSV",
                   help="Canvas identities: Student, ID, SIS User ID, SIS Login ID, Section (Canvas's gradebook "
                        "export will do) and optionally `submission`, the student's name in the gradebook")
    p.add_argument("--canvas-total", metavar="ASSIGNMENT",
                   help="one Canvas column with this name (e.g. 'Homework 3 (1234)') holding the total, "
                        "instead of one column per kata")
    p.add_argument("--hidden-visibility", default="visible",
                   choices=["visible", "hidden", "after_due_date", "after_published"],
                   help="visibility of hidden tests in the JSON files")


def export_main(args: argparse.Namespace) -> int:
    from ..batch.gradebook import Gradebook
    from .grades import write_csv, write_feedback, write_json

    if not (args.csv or args.feedback or args.json or args.canvas):
        raise UsageError("say what to export: --csv FILE, --feedback DIR, --json DIR and/or --canvas FILE")
    if args.canvas and not args.roster:
        raise UsageError("--canvas needs --roster ROSTER.csv: Canvas matches students by its own IDs")
    if not Path(args.gradebook).is_file():
        raise UsageError(f"no gradebook at {args.gradebook}; run `gradkata grade-batch` first or pass --gradebook")
    with Gradebook(args.gradebook) as book:
        if args.csv:
            print(f"{write_csv(book, Path(args.csv))} students -> {args.csv}")
        if args.feedback:
            print(f"{write_feedback(book, Path(args.feedback))} feedback files -> {args.feedback}/")
        if args.json:
            print(f"{write_json(book, Path(args.json), args.hidden_visibility)} results.json files -> {args.json}/")
        if args.canvas:
            _canvas(book, args)
    return 0


def _canvas(book, args: argparse.Namespace) -> None:
    import sys

    from .canvas import write_canvas

    done = write_canvas(book, Path(args.roster), Path(args.canvas), total=args.canvas_total)
    print(f"{done.written} students -> {args.canvas} (Canvas gradebook import)")
    # Listed, never dropped quietly: the instructor fixes the roster or enters these by hand.
    for label, names in (("not in the roster (add a `submission` column or fix the name)", done.unmatched),
                         ("matched to more than one roster row, or sharing one (left out)", done.ambiguous),
                         ("in the roster without a graded submission (cells left empty)", done.no_submission)):
        if names:
            print(f"{len(names)} {label}: {', '.join(names)}", file=sys.stderr)
