"""`gradkata gradescope OUT.zip`: the command-line side of :mod:`gradkata.gradescope`."""

from __future__ import annotations

import argparse
from pathlib import Path

VISIBILITIES = ["visible", "hidden", "after_due_date", "after_published"]


def add_gradescope_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", help="the zip to write, e.g. autograder.zip")
    p.add_argument("--hidden-visibility", default="after_due_date", choices=VISIBILITIES,
                   help="when students see the hidden tests' results (default: after_due_date)")
    p.add_argument("--examples", type=int, default=30, help="hypothesis examples per property test")
    p.add_argument("--seed", type=int, help="fixed hypothesis seed for every submission (default: a fresh one, "
                   "stored in the bundle so regrades agree)")
    p.add_argument("--kata", action="append", metavar="SLUG", help="grade only this kata (repeatable)")
    p.add_argument("--timeout", type=float, help="wall-clock seconds per call")
    p.add_argument("--config", metavar="TOML", help="course config: a [tiers] table of weights, stored in the "
                   "bundle (default: $GRADKATA_CONFIG, else interview and parity count)")


def gradescope_main(args: argparse.Namespace) -> int:
    from .bundle import BundleConfig, build_bundle

    config = BundleConfig.create(hidden_visibility=args.hidden_visibility, examples=args.examples, seed=args.seed,
                                 katas=args.kata, call_s=args.timeout, config=args.config)
    names = build_bundle(Path(args.out), config)
    print(f"gradescope: {len(names)} files -> {args.out} (upload it as the autograder)")
    return 0
