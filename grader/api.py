"""Grade submissions: the entry point behind `gradkata grade` and the batch commands."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

from ._version import __version__
from ._errors import UsageError
from .katas import Kata, all_katas, get
from .pool import Limits, Zygote
from .results import KataResult, Status, SubmissionResult
from .submission import Source, load
from .tiers import DEFAULT_POLICY, TierPolicy, apply_all

T = TypeVar("T")
# gradkata.runner's (tests/engine/test_cold.py checks they agree): the runner imports pytest and
# Hypothesis, which `grade` imports only after the zygote has started importing torch.
DEFAULT_EXAMPLES = 30


def select(slugs: Sequence[str] | None) -> list[Kata]:
    return [get(s) for s in slugs] if slugs else all_katas()


def new_seed() -> int:
    return random.SystemRandom().randrange(1, 2**31)


def _split(katas: list[Kata], sources: dict[str, Source]) -> tuple[dict[str, KataResult], dict[str, bytes | None]]:
    """Early results for katas with no code to run; the code of the others."""
    from .runner import max_points

    early: dict[str, KataResult] = {}
    runnable: dict[str, bytes | None] = {}
    for kata in katas:
        src = sources[kata.slug]
        if src.code is None:
            status = Status.NOT_ATTEMPTED if src.absent else Status.ERROR
            early[kata.slug] = KataResult(kata.slug, 0.0, max_points(kata), status, src.problem or "no code")
        else:
            runnable[kata.slug] = src.code
    return early, runnable


@dataclass
class _Pending:
    path: Path
    sources: dict[str, Source]
    early: dict[str, KataResult]
    started: float


def _assemble(zygote: Zygote, katas: list[Kata], seed: int, pending: _Pending,
              graded: list[KataResult]) -> SubmissionResult:
    by_slug = {r.slug: r for r in graded if r.slug not in pending.early} | pending.early
    return SubmissionResult(
        submission=str(pending.path), katas=[by_slug[k.slug] for k in katas], seed=seed,
        grader_version=__version__, elapsed_s=time.perf_counter() - pending.started, sandbox=list(zygote.layers()),
        notes=list(dict.fromkeys([*(n for s in pending.sources.values() for n in s.notes), *zygote.notes()])),
    )


def grade_many(zygote: Zygote, work: Iterable[tuple[T, Path]], katas: list[Kata],
               on_result: Callable[[T, SubmissionResult], None], *, seed: int, examples: int = DEFAULT_EXAMPLES,
               visible_only: bool = False, plugins: Sequence[object] = (),
               on_unreadable: Callable[[T, Path, UsageError], None] | None = None,
               policy: TierPolicy = DEFAULT_POLICY) -> None:
    """Grade each ``(tag, path)`` of ``work`` in one suite session, reporting each result as it is done.

    A path that cannot be read goes to ``on_unreadable`` (default: the
    :class:`UsageError` is raised and the rest is not graded). ``policy``: how
    much each tier counts (:mod:`gradkata.tiers`).
    """
    from .runner import grade_each, points_of

    points_of(katas)

    def prepared() -> Iterator[tuple[tuple[T, _Pending], dict[str, bytes | None]]]:
        for tag, path in work:
            started = time.perf_counter()
            try:
                sources = load(Path(path), katas)
            except UsageError as exc:
                if on_unreadable is None:
                    raise
                on_unreadable(tag, Path(path), exc)
                continue
            early, runnable = _split(katas, sources)
            # Katas with an early result have no code here; _assemble puts the early result in.
            yield (tag, _Pending(Path(path), sources, early, started)), runnable

    def done(ctx: tuple[T, _Pending], graded: list[KataResult]) -> None:
        tag, pending = ctx
        on_result(tag, apply_all(policy, _assemble(zygote, katas, seed, pending, graded)))

    grade_each(zygote, katas, prepared(), done, seed=seed, examples=examples, visible_only=visible_only,
               plugins=plugins, policy=policy)


def grade_submission(zygote: Zygote, path: Path, katas: list[Kata], *, seed: int,
                     examples: int = DEFAULT_EXAMPLES, visible_only: bool = False,
                     plugins: Sequence[object] = (), policy: TierPolicy = DEFAULT_POLICY) -> SubmissionResult:
    """Grade one submission (a session of its own; :func:`grade_many` shares one)."""
    out: list[SubmissionResult] = []
    grade_many(zygote, [(None, Path(path))], katas, lambda _t, r: out.append(r), seed=seed, examples=examples,
               visible_only=visible_only, plugins=plugins, policy=policy)
    return out[0]


def grade(paths: Sequence[Path], slugs: Sequence[str] | None = None, *, seed: int | None = None,
          examples: int = DEFAULT_EXAMPLES, limits: Limits | None = None,
          visible_only: bool = False, require_sandbox: bool = False,
          policy: TierPolicy = DEFAULT_POLICY) -> list[SubmissionResult]:
    """Grade each submission with one shared warm zygote and one suite session.

    After the first submission whose property tests pass, later ones meet the
    same recorded examples without drawing them again (:mod:`gradkata.batch.replay`).
    ``require_sandbox``: raise :class:`SandboxUnavailable` rather than grade
    when a confinement layer is missing on this machine.
    """
    katas = select(slugs)
    fixed = seed is not None
    seed = seed if seed is not None else new_seed()
    results: list[SubmissionResult] = []
    # First: the zygote imports torch on the other core while this process imports pytest,
    # Hypothesis and the suites (torch again).
    zygote = Zygote(limits, drivers=[k.harness for k in katas]).launch()
    try:
        from .batch.replay import Replay
        from .hypothesis_pin import pin_generation
        from .runner import points_of

        pin_generation()  # before collecting: Hypothesis's plugin would harvest local constants then
        points_of(katas)  # collects the suites (importing torch) while the zygote starts on the other core
        if require_sandbox:
            zygote.require_full()
        # The recorded examples of a fixed seed are kept on disk for the next process
        # (a fresh random seed would never be asked for again).
        grade_many(zygote, [(i, Path(p)) for i, p in enumerate(paths)], katas,
                   lambda _i, r: results.append(r), seed=seed, examples=examples, visible_only=visible_only,
                   plugins=[Replay(disk=fixed)] if fixed or len(paths) > 1 else [], policy=policy)
    finally:
        zygote.close()
    return results
