"""Orchestrate a batch: decide who needs grading, feed the worker pool, record each result as it lands."""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .._errors import UsageError, WorkerDied
from ..results import SubmissionResult
from ..settings import GradingSettings, new_seed
from . import workers
from .digest import grader_version
from .entries import Entry, content_hash, discover
from .gradebook import Gradebook
from .shard import shard_of
from ..tiers import CONFIG_ENV, TierPolicy, apply_all

# Fewer hypothesis examples than a single `gradkata grade` (30): every property
# still meets its generated inputs, and the count is stored in the gradebook.
BATCH_EXAMPLES = 10


@dataclass
class BatchSettings:
    seed: int | None = None
    examples: int | None = None
    katas: list[str] | None = None
    workers: int | None = None
    call_s: float | None = None
    force: bool = False
    replay: bool = True
    shard: tuple[int, int] | None = None  # (I, N): grade only the students of shard I of N
    config: str | None = None  # course TOML with a [tiers] table (else $GRADKATA_CONFIG, else the stored one)


@dataclass
class Outcome:
    """What one run of the batch did."""

    seed: int
    examples: int
    katas: list[str]
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    workers: int = 0
    wall_s: float = 0.0
    grading_s: float = 0.0  # summed over students, inside the workers


def default_katas() -> list[str]:
    from ..katas import all_katas

    # A kata whose hidden suite has not been written yet cannot be graded.
    return [k.slug for k in all_katas() if k.suite_path.is_file()]


def resolve(book: Gradebook, s: BatchSettings) -> tuple[GradingSettings, list[str], float | None]:
    """Settings given now win; otherwise the batch's stored ones, so a re-run grades alike.

    The grading settings' policy is the default here: :func:`resolve_policy` decides it.
    """
    from ..katas import get

    stored = book.settings()
    if s.shard and s.seed is None and stored.get("seed") is None:
        # Each shard would draw its own fresh seed, and their gradebooks could not be merged.
        raise UsageError("--shard needs --seed: every shard must grade with the same seed")
    seed = s.seed if s.seed is not None else stored.get("seed") or new_seed()
    examples = s.examples if s.examples is not None else stored.get("examples") or BATCH_EXAMPLES
    katas = s.katas or stored.get("katas") or default_katas()
    for slug in katas:
        get(slug)  # unknown slug: a usage error now, not in every worker
    call_s = s.call_s if s.call_s is not None else stored.get("call_s")
    book.save_settings({"seed": seed, "examples": examples, "katas": katas, "call_s": call_s,
                        **({"shard": f"{s.shard[0]}/{s.shard[1]}"} if s.shard else {})})
    return GradingSettings(seed, examples), katas, call_s


def resolve_policy(book: Gradebook, s: BatchSettings) -> TierPolicy:
    """The tier weights: the config given now (or $GRADKATA_CONFIG), else the batch's stored ones."""
    stored = book.settings().get("tiers")
    given = s.config or os.environ.get(CONFIG_ENV)
    policy = TierPolicy.resolve(given) if given or not stored else TierPolicy.from_mapping(stored)
    book.save_settings({"tiers": policy.to_dict()})
    return policy


def _rescore(book: Gradebook, policy: TierPolicy, students: list[str]) -> None:
    """New weights need no regrading: each check keeps its tier and raw points."""
    for student in students:
        row = book.row(student)
        if row is not None and row.result.policy != policy.to_dict():
            book.record(student, row.content_hash, apply_all(policy, row.result), examples=row.examples,
                        katas=list(row.katas))


def pending(book: Gradebook, entries: list[Entry], settings: GradingSettings, *, katas: list[str],
            force: bool) -> tuple[list[tuple[Entry, str]], list[str]]:
    version = grader_version(katas)
    todo, skipped = [], []
    for entry in entries:
        digest = content_hash(entry.path)
        row = book.row(entry.student)
        wanted = (digest, version, settings.seed, settings.examples, tuple(katas))
        if not force and row is not None and row.key() == wanted:
            skipped.append(entry.student)
        else:
            todo.append((entry, digest))
    return todo, skipped


def _graded(todo: list[tuple[Entry, str]], n: int, katas: list[str], call_s: float | None, replay: bool,
            settings: GradingSettings) -> Iterator[tuple[str, dict, float]]:
    """Run ``n`` workers over the students; yield ``(student, result dict, seconds)`` as each lands."""
    # A fork server: the workers start clean (no inherited threads, sockets or
    # gradebook), and forked from one warm process they import torch once, not once each.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([f"{__package__}.preload"])
    tasks, results = ctx.Queue(), ctx.Queue()
    for entry, _ in todo:
        tasks.put((entry.student, str(entry.path)))
    for _ in range(n):
        tasks.put(None)
    # One zygote for every worker, started now: it imports torch on one core while
    # the fork server does on the other.
    from ..katas import get
    from ..pool import Limits, Zygote

    zygote = Zygote(Limits(call_s=call_s) if call_s else Limits(), drivers=[get(s).harness for s in katas])
    zygote.launch(shares=n)
    _start_fork_server(katas)
    procs = [ctx.Process(target=workers.grading_worker, daemon=True, args=(
        tasks, results, katas, share, replay, settings, grader_version(katas))) for share in zygote.shares]
    try:
        for proc in procs:
            proc.start()
        for _ in range(len(todo)):
            message = _next(results, procs)
            if message[0] == "error":
                raise WorkerDied(f"a grading worker failed; run the same command again to finish the batch\n"
                                 f"{message[1]}")
            yield message[1], message[2], message[3]
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
            if proc.pid is not None:
                proc.join()
        zygote.close()


def _start_fork_server(katas: list[str]) -> None:
    """Start the fork server now, telling its preload the batch's katas (it collects their suites).

    Only the fork server sees the variable (it inherits this process's environment
    when it starts); a fork server already running keeps what it preloaded.
    """
    from multiprocessing import forkserver

    from .workers import PRELOAD_KATAS_ENV as KATAS_ENV

    before = os.environ.get(KATAS_ENV)
    os.environ[KATAS_ENV] = ",".join(katas)
    try:
        forkserver.ensure_running()
    finally:
        if before is None:
            os.environ.pop(KATAS_ENV, None)
        else:
            os.environ[KATAS_ENV] = before


def _next(results: Any, procs: list) -> tuple:
    while True:
        try:
            return results.get(timeout=0.5)
        except queue.Empty:
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if dead or not any(p.is_alive() for p in procs):
                try:
                    return results.get(timeout=2.0)  # what it sent before it died is still on its way
                except queue.Empty:
                    raise WorkerDied(f"a grading worker died (exit code {dead[0] if dead else 0}); run the same "
                                     "command again to finish the batch") from None


def grade_batch(folder: Path, book: Gradebook, settings: BatchSettings,
                on_start: Callable[[int], None] = lambda n: None,
                on_result: Callable[[str, SubmissionResult], None] = lambda s, r: None) -> Outcome:
    started = time.perf_counter()
    grading, katas, call_s = resolve(book, settings)
    entries = discover(folder)
    if settings.shard:
        index, count = settings.shard
        entries = [e for e in entries if shard_of(e.student, count) == index]
    todo, skipped = pending(book, entries, grading, katas=katas, force=settings.force)
    # The workers grade under the default weights, as a resident server does; each result is scored
    # under the batch's policy here, where the rows that need no regrading are rescored too.
    policy = resolve_policy(book, settings)
    _rescore(book, policy, skipped)
    outcome = Outcome(grading.seed, grading.examples, katas, skipped=skipped)
    on_start(len(todo))
    if todo:
        n = min(settings.workers or os.cpu_count() or 1, len(todo))
        outcome.workers = n
        hashes = {e.student: digest for e, digest in todo}
        for student, data, elapsed in _graded(todo, n, katas, call_s, settings.replay, grading):
            result = apply_all(policy, SubmissionResult.from_dict(data))
            book.record(student, hashes[student], result, examples=grading.examples, katas=katas)
            outcome.graded.append(student)
            outcome.grading_s += elapsed
            on_result(student, result)
    outcome.wall_s = time.perf_counter() - started
    return outcome
