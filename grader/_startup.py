"""A command-line process's start: torch on one thread, no garbage collections until the suites are loaded.

The trusted side's tensors are tiny (references, oracles, mutants on a few
hundred elements): torch's thread pool buys them nothing and contends with the
sandboxed children for the same cores. A busy OpenMP pool spins while it waits,
so on a loaded 2-core machine a trusted sweep ran up to ten times slower with
two threads than with one (:func:`one_thread`; the children are single-threaded
already, see ``pool.THREAD_ENV``). It also makes the reference's arithmetic the
child's: one thread, the same order of summation.

Importing pytest, Hypothesis and torch allocates some 300,000 objects that live
as long as the process; CPython's collector walks them again and again as they
arrive (three full collections and some 500 younger ones, 0.2-0.35 s of CPU
in a cold `gradkata grade`, for some 80 objects of garbage). A command that grades
defers collection (:func:`defer`) until the suites are collected
(:func:`settle`), then moves everything loaded so far out of the collector's
sight (``gc.freeze``, as the zygote does before it forks) and collects as usual
from there on. A library caller's process is left alone: :func:`settle`
does nothing unless this process's command called :func:`defer`.
"""

from __future__ import annotations

import gc
import os

_DEFERRED = [False]


def one_thread() -> None:
    """torch single-threaded in this process and the ones it starts, unless the user set
    ``OMP_NUM_THREADS``; before torch is imported (its pool reads the variable once)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def defer() -> None:
    """No garbage collection until :func:`settle` (for a command-line process only)."""
    if gc.isenabled():
        gc.disable()
        _DEFERRED[0] = True


def settle() -> None:
    """Collections resume, and what is loaded so far stays out of them (``gc.freeze``).

    Idempotent; nothing happens unless :func:`defer` disabled collection."""
    if _DEFERRED[0]:
        _DEFERRED[0] = False
        gc.freeze()
        gc.enable()
