"""`gradkata release OUT`: the command-line side of :mod:`gradkata.release`."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_release_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", help="folder to write the hand-out into (must be empty or absent)")
    p.add_argument("--force", action="store_true", help="write into a non-empty folder")


def release_main(args: argparse.Namespace) -> int:
    from .build import build_release

    files = build_release(Path(args.out), force=args.force)
    print(f"release: {len(files)} files -> {args.out}/")
    return 0
