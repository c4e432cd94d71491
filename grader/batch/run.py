"""Orchestrate a batch: decide who needs grading, feed the worker pool, record each result as it lands."""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..results import SubmissionResult
from . import workers
from .digest import grader_version
from .entries import Entry, content_hash, discover
from .gradebook import Gradebook

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


def resolve(book: Gradebook, s: BatchSettings) -> tuple[int, int, list[str], float | None]:
    """Settings given now win; otherwise the batch's stored ones, so a re-run grades alike."""
    from ..api import new_seed
    from ..katas import get

    stored = book.settings()
    seed = s.seed if s.seed is not None else stored.get("seed") or new_seed()
    examples = s.examples if s.examples is not None else stored.get("examples") or BATCH_EXAMPLES
    katas = s.katas or stored.get("katas") or default_katas()
    for slug in katas:
        get(slug)  # unknown slug: a usage error now, not in every worker
    call_s = s.call_s if s.call_s is not None else stored.get("call_s")
    book.save_settings({"seed": seed, "examples": examples, "katas": katas, "call_s": call_s})
    return seed, examples, katas, call_s


def pending(book: Gradebook, entries: list[Entry], *, seed: int, examples: int, katas: list[str],
            force: bool) -> tuple[list[tuple[Entry, str]], list[str]]:
    version = grader_version(katas)
    todo, skipped = [], []
    for entry in entries:
        digest = content_hash(entry.path)
        row = book.row(entry.student)
        if not force and row is not None and row.key() == (digest, version, seed, examples, tuple(katas)):
            skipped.append(entry.student)
        else:
            todo.append((entry, digest))
    return todo, skipped


def grade_batch(folder: Path, book: Gradebook, settings: BatchSettings,
                on_start: Callable[[int], None] = lambda n: None,
                on_result: Callable[[str, SubmissionResult], None] = lambda s, r: None) -> Outcome:
    started = time.perf_counter()
    seed, examples, katas, call_s = resolve(book, settings)
    entries = discover(folder)
    todo, skipped = pending(book, entries, seed=seed, examples=examples, katas=katas, force=settings.force)
    outcome = Outcome(seed, examples, katas, skipped=skipped)
    on_start(len(todo))
    if todo:
        n = min(settings.workers or os.cpu_count() or 1, len(todo))
        outcome.workers = n
        hashes = {e.student: digest for e, digest in todo}
        # spawn: the workers start clean (no inherited torch threads or sockets).
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(n, mp_context=ctx, initializer=workers.init,
                                 initargs=(katas, call_s, settings.replay)) as pool:
            version = grader_version(katas)
            futures: set[Future] = {pool.submit(workers.grade_one, e.student, str(e.path), seed, examples, version)
                                    for e, _ in todo}
            try:
                while futures:
                    done, futures = wait(futures, return_when=FIRST_COMPLETED)
                    for fut in done:
                        student, data, elapsed = fut.result()
                        result = SubmissionResult.from_dict(data)
                        book.record(student, hashes[student], result, examples=examples, katas=katas)
                        outcome.graded.append(student)
                        outcome.grading_s += elapsed
                        on_result(student, result)
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
    outcome.wall_s = time.perf_counter() - started
    return outcome
