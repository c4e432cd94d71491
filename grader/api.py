"""Grade submissions: the entry point behind every front-end.

:func:`grade_many` is the one grading entry point that reads submissions from
disk: `gradkata grade` (through :func:`grade`), the resident server and a
batch's workers all call it with one :class:`GradingSettings` built by the
front-end. (The notebook checker, which holds a notebook's code rather than a
path, calls :func:`gradkata.runner.grade_sources` with the same settings.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

from ._version import __version__
from ._errors import UsageError
from .katas import Kata, all_katas, get
from .pool import Limits, Zygote
from .results import KataResult, Status, SubmissionResult
from .settings import GradingSettings, new_seed
from .submission import Source, load
from .tiers import apply_all

__all__ = ["GradingSettings", "grade", "grade_many", "grade_submission", "new_seed", "select"]

T = TypeVar("T")


def select(slugs: Sequence[str] | None) -> list[Kata]:
    return [get(s) for s in slugs] if slugs else all_katas()


def _split(katas: list[Kata], sources: dict[str, Source]) -> tuple[dict[str, KataResult], dict[str, bytes | None]]:
    """Early results for katas with no code to run; the code of the others."""
    from .runner import max_points  # pytest and Hypothesis: imported once the zygote has started

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


def _assemble(zygote: Zygote, katas: list[Kata], settings: GradingSettings, pending: _Pending,
              graded: list[KataResult]) -> SubmissionResult:
    by_slug = {r.slug: r for r in graded if r.slug not in pending.early} | pending.early
    return SubmissionResult(
        submission=str(pending.path), katas=[by_slug[k.slug] for k in katas], seed=settings.seed,
        grader_version=__version__, elapsed_s=time.perf_counter() - pending.started, sandbox=list(zygote.layers()),
        notes=list(dict.fromkeys([*(n for s in pending.sources.values() for n in s.notes), *zygote.notes()])),
    )


def grade_many(zygote: Zygote, work: Iterable[tuple[T, Path]], katas: list[Kata],
               on_result: Callable[[T, SubmissionResult], None], settings: GradingSettings, *,
               plugins: Sequence[object] = (),
               on_unreadable: Callable[[T, Path, UsageError], None] | None = None,
               share_children: bool = False) -> None:
    """Grade each ``(tag, path)`` of ``work`` in one suite session, reporting each result as it is done.

    A path that cannot be read goes to ``on_unreadable`` (default: the
    :class:`UsageError` is raised and the rest is not graded). ``plugins``:
    extra pytest plugins for the session (e.g. :class:`gradkata.batch.replay.Replay`).
    ``share_children``: a child per group of katas rather than per kata (throughput, for a
    batch; see :func:`gradkata.runner.grade_each`).
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
        on_result(tag, apply_all(settings.policy, _assemble(zygote, katas, settings, pending, graded)))

    grade_each(zygote, katas, prepared(), done, settings, plugins=plugins, share_children=share_children)


def grade_submission(zygote: Zygote, path: Path, katas: list[Kata], settings: GradingSettings, *,
                     plugins: Sequence[object] = ()) -> SubmissionResult:
    """Grade one submission (a session of its own; :func:`grade_many` shares one)."""
    out: list[SubmissionResult] = []
    grade_many(zygote, [(None, Path(path))], katas, lambda _t, r: out.append(r), settings, plugins=plugins)
    return out[0]


def grade(paths: Sequence[Path], slugs: Sequence[str] | None = None, settings: GradingSettings | None = None, *,
          limits: Limits | None = None, require_sandbox: bool = False,
          keep_examples: bool | None = None) -> list[SubmissionResult]:
    """Grade each submission with one shared warm zygote and one suite session.

    ``settings``: seed, examples, worked examples only, tier weights (default:
    a fresh seed and the defaults, :meth:`GradingSettings.create`).
    After the first submission whose property tests pass, later ones meet the
    same recorded examples without drawing them again (:mod:`gradkata.batch.replay`).
    ``keep_examples``: also keep them on disk for the next process with the same seed
    (default: when ``settings`` were given, which names the seed; a fresh random seed
    is never asked for again). ``require_sandbox``: raise :class:`SandboxUnavailable`
    rather than grade when a confinement layer is missing on this machine.
    """
    katas = select(slugs)
    disk = keep_examples if keep_examples is not None else settings is not None
    settings = settings if settings is not None else GradingSettings.create()
    # First, before pytest, Hypothesis and the suites are imported here: the zygote imports
    # torch on the other core meanwhile.
    zygote = Zygote(limits, drivers=[k.harness for k in katas]).launch()
    try:
        from .hypothesis_pin import pin_generation
        from .runner import points_of

        pin_generation()  # before collecting: Hypothesis's plugin would harvest local constants then
        points_of(katas)  # collects the suites (importing torch) while the zygote starts on the other core
        from ._startup import settle

        settle()  # a command's deferred garbage collection resumes, the loaded heap frozen out of it
        if require_sandbox:
            zygote.require_full()
        results = grade_on(zygote, paths, katas, settings, keep_examples=disk)
    finally:
        zygote.close()
    return results


def grade_on(zygote: Zygote, paths: Sequence[Path], katas: list[Kata], settings: GradingSettings, *,
             keep_examples: bool) -> list[SubmissionResult]:
    """:func:`grade` on a zygote already running (a process that grades again and again keeps one):
    recorded examples replayed for later submissions and, with ``keep_examples``, kept on disk
    with the katas' scenario scripts for the next process with this seed."""
    from . import prefetch
    from .batch.replay import Replay

    out: dict[int, SubmissionResult] = {}
    with prefetch.kept_on_disk(keep_examples):  # a fixed seed's scenarios (one request per kata)
        grade_many(zygote, [(i, Path(p)) for i, p in enumerate(paths)], katas, out.__setitem__, settings,
                   plugins=[Replay(disk=keep_examples)] if keep_examples or len(paths) > 1 else [])
    return [out[i] for i in range(len(paths))]
