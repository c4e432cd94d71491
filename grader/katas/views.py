"""`gradkata katas sync [--check]`: write the repository's generated views of the katas.

Each kata's folder is the one source of truth. ``exercises/<slug>.py`` (the
stub a student edits) and ``solutions/<slug>.py`` (the reference, for readers
of the repository) are views of it, regenerated here and checked for drift by
the tests and CI.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import index
from ._catalogue import all_katas
from ._kata import PROJECT_ROOT


def index_data() -> dict[str, Any]:
    """The index, from the kata folders (imports every kata, its suite and its mistakes)."""
    from ..mistakes import catalogue
    from ..runner import points_of, tier_points

    katas = all_katas()
    # Points as `max_points` counts them on this machine: CUDA-only tests are
    # skipped (and not counted) where no GPU is, as on the machines that sync.
    points = points_of(katas)
    return {"format": index.FORMAT, "katas": [
        {"slug": kata.slug, "title": kata.title, "topic": kata.topic, "points": points[kata.slug],
         "tier_points": tier_points(kata),
         "functions": list(kata.functions), "stub_sha256": index.stub_digest(kata.render_stub()),
         "mistakes": [{"id": m.id, "title": m.title, "feedback": m.feedback()} for m in catalogue(kata)]}
        for kata in katas]}


def generate() -> dict[Path, str]:
    """Every view's path and the text it should have."""
    views: dict[Path, str] = {}
    for kata in all_katas():
        views[kata.exercise_path] = kata.render_stub()
        views[kata.solution_path] = kata.render_solution()
    # What `list` and `mistakes` read, so that they need not import torch.
    views[index.INDEX_PATH] = index.render(index_data())
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
