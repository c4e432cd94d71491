"""Replay hypothesis's examples instead of drawing them again, within one worker process.

With the batch's fixed seed, hypothesis generates the same examples for every
submission: its draws depend on the seed and the test, not on the candidate
(passing examples do not steer generation, and without the shrink phase it
stops at the first failing one). Drawing them is a third of the grading time,
so the first submission whose property test passes records the drawn
arguments, and later submissions in the same process call the test body with
those recorded arguments, in the same order, stopping at the first failure
as hypothesis would. Only plain data (numbers, strings, arrays, containers of
them) is recorded; a test that draws anything else always runs through
hypothesis. Recordings are keyed by test, seed and example count, so they
never cross batches with other settings.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from hypothesis import settings

PLAIN = (str, int, float, bool, type(None), np.ndarray, np.generic)


def is_plain(value: Any) -> bool:
    if isinstance(value, PLAIN):
        return True
    if isinstance(value, (list, tuple)):
        return all(is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain(v) for k, v in value.items())
    return False


def freeze_hypothesis_constants() -> None:
    """Examples must depend on the seed alone (see :mod:`gradkata.hypothesis_pin`):
    the runner pins this per suite run; a batch worker pins it before anything else."""
    from ..hypothesis_pin import pin_generation

    pin_generation()


class Replay:
    """pytest plugin object; one instance per worker process holds its recordings."""

    def __init__(self) -> None:
        freeze_hypothesis_constants()
        self.recordings: dict[tuple, list[dict[str, Any]]] = {}
        self.replayed = 0
        self.recorded = 0

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        fn = pyfuncitem.obj
        handle = getattr(fn, "hypothesis", None)
        if not getattr(fn, "is_hypothesis_test", False) or handle is None or pyfuncitem.cls is not None:
            return None  # pytest's own call
        funcargs = {a: pyfuncitem.funcargs[a] for a in pyfuncitem._fixtureinfo.argnames}
        profile = settings.default  # hypothesis types it Optional; a loaded profile is always set here
        key = (pyfuncitem.nodeid, pyfuncitem.config.getoption("hypothesis_seed", None),
               profile.max_examples if profile is not None else None)
        recording = self.recordings.get(key)
        if recording is not None:
            self.replayed += 1
            for drawn in recording:
                handle.inner_test(**funcargs, **copy.deepcopy(drawn))
            return True
        self._record(fn, handle, funcargs, key)
        return True

    def _record(self, fn, handle, funcargs: dict[str, Any], key: tuple) -> None:
        examples: list[dict[str, Any]] = []
        plain = [True]
        original = handle.inner_test

        def recorder(*args: Any, **kwargs: Any) -> Any:
            drawn = {k: v for k, v in kwargs.items() if k not in funcargs}
            snapshot = copy.deepcopy(drawn) if not args and is_plain(drawn) else None
            out = original(*args, **kwargs)
            if snapshot is None:
                plain[0] = False
            else:
                examples.append(snapshot)  # only examples that passed: invalid ones raised
            return out

        handle.inner_test = recorder
        try:
            fn(**funcargs)  # raises when the candidate fails: nothing is recorded then
        finally:
            handle.inner_test = original
        if plain[0] and examples:
            self.recordings[key] = examples
            self.recorded += 1
