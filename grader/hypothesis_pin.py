"""Make Hypothesis generate the same examples in every process for a given seed.

Since 6.131 Hypothesis draws about one choice in twenty from a pool of literal
constants it harvests from the *local* modules in ``sys.modules``. Which of
gradkata's modules are imported differs from process to process (a notebook's
grading server, `gradkata grade`, a run that has already loaded the mistake
catalogues for a diagnosis), so the same seed produced different examples and
the same submission could earn different scores. The pool is pinned empty;
the global constants Hypothesis ships with still apply.
"""

from __future__ import annotations

import random

from hypothesis.internal.conjecture import providers

_EMPTY = providers.Constants()


def _no_local_constants() -> providers.Constants:
    return _EMPTY


def pin_generation() -> None:
    """Idempotent; call before running the hidden suites."""
    if hasattr(providers, "_get_local_constants"):
        if providers._get_local_constants is not _no_local_constants:
            providers._get_local_constants = _no_local_constants
            providers.CONSTANTS_CACHE.cache.clear()  # may hold constants drawn from the old pool
    _register_global_random()


def _register_global_random() -> None:
    """Give Hypothesis its own Random before its first test, without its ``gc.collect()``.

    Hypothesis creates it on the first test of each thread and registers it with
    ``register_random``, which runs a full garbage collection to check the
    instance is referenced: 0.2 s with torch loaded, in every process that grades.
    Here it is referenced (by the thread-local), so registering it directly is
    what ``register_random`` would do. Versions without these internals keep theirs.
    """
    try:
        from hypothesis import core
        from hypothesis.internal import entropy

        local = core.threadlocal
        if getattr(local, "_hypothesis_global_random", None) is None:
            rng = random.Random()
            entropy.RANDOMS_TO_MANAGE[next(entropy._RKEY)] = rng
            local._hypothesis_global_random = rng
    except (ImportError, AttributeError, TypeError):
        pass
