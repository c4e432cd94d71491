"""A kata's scenarios known in advance, so that a child answers them all from one request.

With a fixed seed a hidden suite puts the same scenarios, in the same order, to
every candidate that passes it: they depend on the seed, never on the answers
(Hypothesis's draws do not follow passing examples). The first complete run of
a kata in a process records the calls its suite made; from then on each child of
that kata is sent the whole list right after it has imported the submission
(:meth:`gradkata.pool.Child.prefetch`) and works through it while the grader
judges. The suite still asks for each answer as before: replies are matched by
the request's hash, and a scenario that was not sent ahead (a failing candidate
stops early, or a scenario built from an earlier answer) is called as before.

A child that dies on a scenario read ahead of the asks is regraded one call per
ask (:mod:`gradkata.runner`), so a verdict always names the scenario a
call-per-ask run would have died on.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Iterator, Sequence

from .pool import call_message, calls_message
from .worker import wire


class Script:
    """A kata's calls in the order its suite makes them: their hashes, and one request for all.

    A recorded script builds its request when first sent or saved: a process that grades
    one submission with a fresh seed does neither (5 ms per kata saved)."""

    def __init__(self, keys: tuple[bytes, ...], message: bytes | None = None, asked: Sequence[bytes] = ()) -> None:
        self.keys = keys
        self._message = message
        self._asked = tuple(asked)

    @classmethod
    def recorded(cls, asked: Sequence[bytes]) -> "Script":
        """The script of the calls a complete run made, each as sent (:func:`gradkata.pool.call_message`)."""
        return cls(tuple(digest(m) for m in asked), asked=asked)

    @property
    def message(self) -> bytes:
        if self._message is None:
            self._message, self._asked = calls_message(self._asked), ()
        return self._message

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Script) and (self.keys, self.message) == (other.keys, other.message)

    def __hash__(self) -> int:
        return hash(self.keys)

    def __repr__(self) -> str:
        return f"Script({len(self.keys)} calls)"


ScriptKey = tuple[str, int, int, bool]  # (kata, seed, examples, visible only)
_SCRIPTS: dict[ScriptKey, Script] = {}
_ENABLED = [True]
_DISK = [False]
_MISSING: set[ScriptKey] = set()  # looked for on disk and not found: not again in this process


def digest(message: bytes) -> bytes:
    """The hash a call's request is known by (the judge's cache key too)."""
    return hashlib.blake2b(message, digest_size=16).digest()


def keep_on_disk(on: bool = True) -> bool:
    """Also keep scripts in the user's cache (:mod:`gradkata.cache`), for the next process with
    the same seed: for fixed seeds only (a batch, ``--seed``, ``check``), as a fresh random
    seed is never asked for again. Returns the previous setting."""
    before, _DISK[0] = _DISK[0], on
    return before


@contextlib.contextmanager
def kept_on_disk(on: bool = True) -> Iterator[None]:
    """:func:`keep_on_disk` for the duration of a ``with`` block."""
    before = keep_on_disk(on)
    try:
        yield
    finally:
        keep_on_disk(before)


def enabled() -> bool:
    """Whether scenarios may be sent ahead of the asks (off inside :func:`disabled`)."""
    return _ENABLED[0]


def lookup(key: ScriptKey) -> Script | None:
    if not _ENABLED[0]:
        return None
    script = _SCRIPTS.get(key)
    if script is None and _DISK[0] and key not in _MISSING:
        script = _load(key)
        if script is None:
            _MISSING.add(key)
        else:
            _SCRIPTS[key] = script
    return script


def record(key: ScriptKey, asked: Sequence[bytes]) -> None:
    """Keep the calls of a complete run (every check ran to its end) as the kata's script."""
    if _ENABLED[0] and key not in _SCRIPTS and asked:
        _SCRIPTS[key] = script = Script.recorded(asked)
        if _DISK[0]:
            _save(key, script)


def _path(key: ScriptKey) -> Path | None:
    from .cache import cache_root, suite_digest, versions
    from .katas import get

    root = cache_root()
    if root is None:
        return None
    text = json.dumps(["gradkata-script-1", *versions(), suite_digest(get(key[0]).suite_path), *key])
    return root / "scripts" / (hashlib.sha256(text.encode()).hexdigest()[:40] + ".bin")


def _load(key: ScriptKey) -> Script | None:
    """A kept script, checked: the keys are recomputed from the requests themselves, so a
    reply can only ever be matched to the request it answers."""
    from .cache import read_private

    path = _path(key)
    raw = read_private(path) if path is not None else None
    if raw is None:
        return None
    try:
        request = wire.decode(raw)
        requests = request["requests"]
        if request.get("op") != "calls" or not isinstance(requests, list) or not requests:
            return None
        keys = tuple(digest(call_message(str(r["harness"]), r["scenario"])) for r in requests)
    except (wire.ProtocolError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return Script(keys, raw)


def _save(key: ScriptKey, script: Script) -> None:
    from .cache import write_private

    path = _path(key)
    if path is not None:
        write_private(path, script.message)


def forget() -> None:
    _SCRIPTS.clear()
    _MISSING.clear()


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Grade one call per ask (the reference path the prefetching one is compared with)."""
    _ENABLED[0] = False
    try:
        yield
    finally:
        _ENABLED[0] = True
