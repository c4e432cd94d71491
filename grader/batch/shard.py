"""`grade-batch --shard I/N`: a deterministic share of the students, for one machine of many.

A student's shard depends on their name alone (a stable hash, not Python's
salted ``hash``), so every machine, whatever its order of files or its Python,
agrees on who is whose, and the N shards are disjoint and cover the class.
"""

from __future__ import annotations

import hashlib

from .._errors import UsageError


def parse(text: str) -> tuple[int, int]:
    """``"I/N"`` with 1 <= I <= N (Slurm's ``--array=1-N``; Kubernetes' 0-based index plus one)."""
    try:
        i, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard {text!r}: give I/N, such as 2/8 (the second of eight shards)") from None
    if not 1 <= i <= n:
        raise UsageError(f"--shard {text!r}: I must be between 1 and N (the shards are 1/{n} ... {n}/{n})")
    return i, n


def shard_of(student: str, n: int) -> int:
    """The shard (1..N) that grades ``student``."""
    digest = hashlib.blake2b(student.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % n + 1
