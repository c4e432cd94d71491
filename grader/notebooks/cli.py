"""`gradkata notebooks build [--check]`: regenerate notebooks/ and nbgrader/source/."""

from __future__ import annotations

import argparse

from ..katas._kata import PROJECT_ROOT


def add_notebooks_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["build"], help="build: write the notebooks from the kata catalogue")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if a committed notebook differs from what would be generated")


def notebooks_main(args: argparse.Namespace) -> int:
    from .build import drifted, generate, write

    built = generate()
    if args.check:
        stale = drifted(built)
        for path in stale:
            print(f"stale: {path.relative_to(PROJECT_ROOT)}")
        print("notebooks are up to date" if not stale else "run `gradkata notebooks build` to regenerate them")
        return 1 if stale else 0
    for path in write(built):
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    print(f"{len(built)} notebooks generated")
    return 0
