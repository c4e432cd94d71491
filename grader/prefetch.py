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
from dataclasses import dataclass
from typing import Iterator, Sequence

from .pool import calls_message


@dataclass(frozen=True)
class Script:
    """A kata's calls in the order its suite makes them: their hashes, and one request for all."""

    keys: tuple[bytes, ...]
    message: bytes


ScriptKey = tuple[str, int, int, bool]  # (kata, seed, examples, visible only)
_SCRIPTS: dict[ScriptKey, Script] = {}
_ENABLED = [True]


def digest(message: bytes) -> bytes:
    """The hash a call's request is known by (the judge's cache key too)."""
    return hashlib.blake2b(message, digest_size=16).digest()


def lookup(key: ScriptKey) -> Script | None:
    return _SCRIPTS.get(key) if _ENABLED[0] else None


def record(key: ScriptKey, asked: Sequence[bytes]) -> None:
    """Keep the calls of a complete run (every check ran to its end) as the kata's script."""
    if _ENABLED[0] and key not in _SCRIPTS and asked:
        _SCRIPTS[key] = Script(tuple(digest(m) for m in asked), calls_message(asked))


def forget() -> None:
    _SCRIPTS.clear()


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Grade one call per ask (the reference path the prefetching one is compared with)."""
    _ENABLED[0] = False
    try:
        yield
    finally:
        _ENABLED[0] = True
