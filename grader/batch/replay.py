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

``Replay(disk=True)`` also keeps them on disk (:class:`ReplayStore`), so a
fresh process with the same seed (``gradkata grade --seed``, ``check``,
a batch, Gradescope, a notebook server) grades without drawing them again.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from ..cache import cache_root, read_private, suite_digest, versions, write_private

if TYPE_CHECKING:
    from ..settings import GradingSettings

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


def _encode(value: Any) -> Any:
    """Plain data as JSON, exactly: tuples, dicts, NumPy arrays and scalars are tagged."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and type(value) is int:
        return value
    if isinstance(value, float) and type(value) is float:
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"dtype {arr.dtype} is not kept")
        return {"nd": [arr.dtype.str, list(arr.shape), base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode(),
                       isinstance(value, np.generic)]}
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return {"tuple" if type(value) is tuple else "list": [_encode(v) for v in value]}
    if isinstance(value, dict) and type(value) is dict:
        return {"dict": {str(k): _encode(v) for k, v in value.items()}}
    raise TypeError(f"{type(value).__name__} is not kept")


def _decode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError("not a recorded value")
    [(tag, body)] = value.items()
    if tag == "list":
        return [_decode(v) for v in body]
    if tag == "tuple":
        return tuple(_decode(v) for v in body)
    if tag == "dict":
        return {str(k): _decode(v) for k, v in body.items()}
    if tag == "nd":
        dtype_str, shape, data, scalar = body
        dtype = np.dtype(str(dtype_str))
        if dtype.kind not in "biufc":
            raise ValueError(f"dtype {dtype} is not kept")
        arr = np.frombuffer(base64.b64decode(data), dtype=dtype).reshape([int(n) for n in shape]).copy()
        return arr[()] if scalar else arr
    raise ValueError(f"unknown tag {tag!r}")


class ReplayStore:
    """Recordings on disk, one file per (test, seed, example count, grader sources, versions).

    Only this user's own files are read (owned by this uid, writable by no one
    else, no symlinks), and only plain data comes out of them (JSON, NumPy
    arrays of numbers): the sandboxed children run as another uid and cannot
    write here. A cache that cannot be read or written is no cache, never an error.
    """

    def __init__(self, root: Path | None) -> None:
        self.folder = root / "replay" if root is not None else None
        self.loaded = 0
        self.saved = 0

    @classmethod
    def default(cls) -> "ReplayStore":
        return cls(cache_root())

    def _path(self, key: list) -> tuple[Path, str] | None:
        if self.folder is None:
            return None
        text = json.dumps(key)
        return self.folder / (hashlib.sha256(text.encode()).hexdigest()[:40] + ".json"), text

    def key(self, item: pytest.Function, seed: Any, examples: Any) -> list:
        return ["gradkata-replay-1", *versions(), suite_digest(Path(item.path)), item.nodeid, str(seed),
                str(examples)]

    def load(self, key: list) -> list[dict[str, Any]] | None:
        where = self._path(key)
        if where is None:
            return None
        path, text = where
        raw = read_private(path)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("key") != text or not isinstance(data.get("examples"), list):
                return None
            examples = [_decode(e) for e in data["examples"]]
            if not all(isinstance(e, dict) for e in examples):
                return None
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        self.loaded += 1
        return examples

    def save(self, key: list, examples: list[dict[str, Any]]) -> None:
        where = self._path(key)
        if where is None:
            return
        path, text = where
        try:
            body = json.dumps({"key": text, "examples": [_encode(e) for e in examples]}).encode()
        except (TypeError, ValueError):
            return
        if not write_private(path, body):
            return
        self.saved += 1


class Replay:
    """pytest plugin object; one instance per worker process holds its recordings.

    ``disk``: also read and write them in :class:`ReplayStore` (only for a
    fixed seed: a fresh random one is never asked for again). ``store``: which.
    """

    def __init__(self, disk: bool = False, store: ReplayStore | None = None) -> None:
        freeze_hypothesis_constants()
        self.recordings: dict[tuple, list[dict[str, Any]]] = {}
        self.replayed = 0
        self.recorded = 0
        self.store = store if store is not None else ReplayStore.default() if disk else None
        self.run: tuple[int, int] | None = None  # (seed, examples) of the grading under way

    def bind(self, settings: GradingSettings) -> None:
        """The grading about to run (the runner calls this): recordings are keyed by its seed and example count."""
        self.run = (settings.seed, settings.examples)

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        fn = pyfuncitem.obj
        handle = getattr(fn, "hypothesis", None)
        if not getattr(fn, "is_hypothesis_test", False) or handle is None or pyfuncitem.cls is not None \
                or self.run is None:
            return None  # pytest's own call (and no replay outside a grading run)
        funcargs = {a: pyfuncitem.funcargs[a] for a in pyfuncitem._fixtureinfo.argnames}
        key = (pyfuncitem.nodeid, *self.run)
        recording = self.recordings.get(key)
        disk_key = None
        if recording is None and self.store is not None:
            disk_key = self.store.key(pyfuncitem, key[1], key[2])
            recording = self.store.load(disk_key)
            if recording is not None:
                self.recordings[key] = recording
        if recording is not None:
            self.replayed += 1
            for drawn in recording:
                handle.inner_test(**funcargs, **copy.deepcopy(drawn))
            return True
        self._record(fn, handle, funcargs, key, disk_key)
        return True

    def _record(self, fn, handle, funcargs: dict[str, Any], key: tuple, disk_key: list | None = None) -> None:
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
            if self.store is not None and disk_key is not None:
                self.store.save(disk_key, examples)
