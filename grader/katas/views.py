"""`gradkata katas sync [--check]`: write the repository's generated views of the katas.

Each kata's folder is the one source of truth. ``exercises/<slug>.py`` (the
stub a student edits) and ``solutions/<slug>.py`` (the reference, for readers
of the repository) are views of it, regenerated here and checked for drift by
the tests and CI.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import index
from ._catalogue import all_katas
from ._kata import PROJECT_ROOT


def generate() -> dict[Path, str]:
    """Every view's path and the text it should have."""
    views: dict[Path, str] = {}
    for kata in all_katas():
        views[kata.exercise_path] = kata.render_stub()
        views[kata.solution_path] = kata.render_solution()
    # What `list` and `mistakes` read, so that they need not import torch.
    views[index.INDEX_PATH] = index.render(index.build())
    return views


def drifted(views: dict[Path, str]) -> list[Path]:
    return [path for path, text in views.items() if not path.is_file() or path.read_text() != text]


def add_katas_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["sync"], help="sync: write exercises/, solutions/ and grader/katas/index.json from the kata folders")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if a view differs from its kata")


def katas_main(args: argparse.Namespace) -> int:
    views = generate()
    stale = drifted(views)
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(PROJECT_ROOT)}")
        print("views are up to date" if not stale else "run `gradkata katas sync` to regenerate them")
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(views[path])
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    print(f"{len(views)} views, {len(stale)} rewritten")
    return 0
