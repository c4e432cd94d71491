"""`gradkata grade-batch SUBMISSIONS`: the command-line side of :mod:`gradkata.batch`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .gradebook import DEFAULT_PATH


def add_grade_batch_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("submissions", help="folder with one entry per student: a folder, a .py or an .ipynb")
    p.add_argument("--gradebook", default=str(DEFAULT_PATH), help="SQLite gradebook (default: ./gradebook.sqlite)")
    p.add_argument("--kata", action="append", metavar="SLUG", help="grade only this kata (repeatable)")
    p.add_argument("--workers", type=int, help="parallel graders (default: one per CPU core)")
    p.add_argument("--seed", type=int, help="hypothesis seed (default: the batch's stored seed, else a fresh one)")
    p.add_argument("--examples", type=int,
                   help="hypothesis examples per property test (default: the stored count, else 10)")
    p.add_argument("--timeout", type=float, help="wall-clock seconds per call (default 10)")
    p.add_argument("--force", action="store_true", help="re-grade students whose submission has not changed")
    p.add_argument("--no-replay", dest="replay", action="store_false",
                   help="draw hypothesis examples afresh for every student (slower; same results)")
    p.add_argument("--quiet", action="store_true", help="no final table")
    p.add_argument("--config", metavar="TOML", help="course config: a [tiers] table of weights (default: "
                   "$GRADKATA_CONFIG, else the batch's stored weights, else interview and parity count)")
    p.add_argument("--shard", metavar="I/N",
                   help="grade only shard I of N (1 <= I <= N; by a stable hash of the student's name) into this "
                        "gradebook; needs --seed; combine the shards with `gradkata merge`")


def add_merge_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("output", help="gradebook to write (created, or added to)")
    p.add_argument("inputs", nargs="+", help="the shards' gradebooks")


def merge_main(args: argparse.Namespace) -> int:
    from .merge import merge

    outcome = merge(Path(args.output), [Path(p) for p in args.inputs])
    twice = f"; {len(outcome.replaced)} students were in several inputs (newest row kept)" if outcome.replaced else ""
    print(f"merged {len(args.inputs)} gradebooks into {args.output}: {outcome.rows} students{twice}",
          file=sys.stderr)
    return 0


def grade_batch_main(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .gradebook import Gradebook
    from .run import BatchSettings
    from .view import run_with_progress, summary, table

    from .shard import parse

    console = Console(stderr=True)
    shard = parse(args.shard) if args.shard else None
    settings = BatchSettings(seed=args.seed, examples=args.examples, katas=args.kata, workers=args.workers,
                             call_s=args.timeout, force=args.force, replay=args.replay, shard=shard,
                             config=args.config)
    with Gradebook(args.gradebook) as book:
        outcome = run_with_progress(Path(args.submissions), book, settings, console)
        if not args.quiet:
            Console().print(table(book, outcome.katas))
    print(summary(outcome), file=sys.stderr)
    return 0  # whatever the scores
