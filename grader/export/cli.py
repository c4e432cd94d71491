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
    p.add_argument("--hidden-visibility", default="visible",
                   choices=["visible", "hidden", "after_due_date", "after_published"],
                   help="visibility of hidden tests in the JSON files")


def export_main(args: argparse.Namespace) -> int:
    from ..batch.gradebook import Gradebook
    from .grades import write_csv, write_feedback, write_json

    if not (args.csv or args.feedback or args.json):
        raise UsageError("say what to export: --csv FILE, --feedback DIR and/or --json DIR")
    if not Path(args.gradebook).is_file():
        raise UsageError(f"no gradebook at {args.gradebook}; run `gradkata grade-batch` first or pass --gradebook")
    with Gradebook(args.gradebook) as book:
        if args.csv:
            print(f"{write_csv(book, Path(args.csv))} students -> {args.csv}")
        if args.feedback:
            print(f"{write_feedback(book, Path(args.feedback))} feedback files -> {args.feedback}/")
        if args.json:
            print(f"{write_json(book, Path(args.json), args.hidden_visibility)} results.json files -> {args.json}/")
    return 0
