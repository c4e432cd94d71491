"""Grade submissions: the entry point behind `gradkata grade` and the batch commands."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Sequence

from . import __version__
from .katas import Kata, all_katas, get
from .pool import Limits, Zygote
from .results import KataResult, Status, SubmissionResult
from .runner import DEFAULT_EXAMPLES, grade_sources, max_points
from .submission import Source, load


def select(slugs: Sequence[str] | None) -> list[Kata]:
    return [get(s) for s in slugs] if slugs else all_katas()


def new_seed() -> int:
    return random.SystemRandom().randrange(1, 2**31)


def grade_submission(zygote: Zygote, path: Path, katas: list[Kata], *, seed: int,
                     examples: int = DEFAULT_EXAMPLES, visible_only: bool = False,
                     sources: dict[str, Source] | None = None, plugins: Sequence[object] = ()) -> SubmissionResult:
    started = time.perf_counter()
    sources = sources if sources is not None else load(path, katas)
    early: dict[str, KataResult] = {}
    runnable: dict[str, bytes | None] = {}
    for kata in katas:
        src = sources[kata.slug]
        if src.code is None:
            status = Status.NOT_ATTEMPTED if src.absent else Status.ERROR
            early[kata.slug] = KataResult(kata.slug, 0.0, max_points(kata), status, src.problem or "no code")
        else:
            runnable[kata.slug] = src.code
    graded = grade_sources(zygote, [k for k in katas if k.slug in runnable], runnable, seed=seed,
                           examples=examples, visible_only=visible_only, plugins=plugins)
    by_slug = {r.slug: r for r in graded} | early
    return SubmissionResult(
        submission=str(path), katas=[by_slug[k.slug] for k in katas], seed=seed, grader_version=__version__,
        elapsed_s=time.perf_counter() - started, sandbox=list(zygote.layers()),
        notes=list(dict.fromkeys([*(n for s in sources.values() for n in s.notes), *zygote.notes()])),
    )


def grade(paths: Sequence[Path], slugs: Sequence[str] | None = None, *, seed: int | None = None,
          examples: int = DEFAULT_EXAMPLES, limits: Limits | None = None,
          visible_only: bool = False, require_sandbox: bool = False) -> list[SubmissionResult]:
    """Grade each submission with one shared warm zygote.

    ``require_sandbox``: raise :class:`SandboxUnavailable` rather than grade
    when a confinement layer is missing on this machine.
    """
    katas = select(slugs)
    seed = seed if seed is not None else new_seed()
    with Zygote(limits) as zygote:
        if require_sandbox:
            zygote.require_full()
        return [grade_submission(zygote, Path(p), katas, seed=seed, examples=examples, visible_only=visible_only)
                for p in paths]
