"""The zygote's heap in huge pages, so that forking and ending a child costs less.

A child is a fork of the zygote, whose anonymous memory (torch's and Python's
heap, about 250 MiB) is mapped in 4 KiB pages: fork copies a page-table entry
for each of some 60,000 pages and the child's exit drops them again, which is
most of the fixed CPU cost of a child (benchmarks/batch_floor.py). Collapsed
into 2 MiB pages (``madvise(MADV_COLLAPSE)``, Linux 6.1), there are 512 times
fewer entries; a child that writes to such a page still copies only the 4 KiB
it writes (the kernel first splits the huge page's mapping in that child).

Collapsing costs the zygote about 6 ms of CPU per 2 MiB (some 0.6 s in all), so
only a zygote that has already forked ``AFTER`` children, one that will likely
fork many more (a batch, a server, a test session), does it, one 2 MiB range at
a time while no request waits. Where the kernel cannot (older than 6.1,
transparent huge pages turned off) madvise fails and nothing changes.
"""

from __future__ import annotations

import ctypes
import os

AFTER = 16  # children forked before collapsing starts: fewer would not repay its cost
HUGE = 1 << 21
MADV_COLLAPSE = 25
_GIVE_UP = 8  # ranges in a row the kernel refuses before assuming it never will


class Collapser:
    """Collapses the zygote's anonymous memory into huge pages, a range per :meth:`step`."""

    def __init__(self, after: int = AFTER) -> None:
        self.after = after
        self.forks = 0
        self.ranges: list[int] | None = None  # start addresses still to collapse; None: not started
        self.refused = 0
        self.done = 0

    def forked(self) -> None:
        self.forks += 1
        if self.forks == self.after and os.environ.get("GRADKATA_HUGEPAGES", "1") != "0":
            self.ranges = _anonymous_ranges()

    def busy(self) -> bool:
        """Is there a range left to collapse now?"""
        return bool(self.ranges)

    def step(self) -> None:
        """Collapse one 2 MiB range (a few ms)."""
        if not self.ranges:
            return
        if _madvise(self.ranges.pop(), HUGE, MADV_COLLAPSE):
            self.done += 1
            self.refused = 0
        else:
            self.refused += 1
            if self.refused >= _GIVE_UP and not self.done:
                self.ranges = []


def _anonymous_ranges() -> list[int]:
    """Start addresses of the whole 2 MiB ranges of private, writable, anonymous mappings."""
    starts: list[int] = []
    try:
        with open("/proc/self/maps") as maps:
            lines = maps.readlines()
    except OSError:
        return starts
    for line in lines:
        parts = line.split()
        name = parts[5] if len(parts) > 5 else ""
        if not parts[1].startswith("rw") or parts[1][3] != "p" or name not in ("", "[heap]"):
            continue
        low, high = (int(x, 16) for x in parts[0].split("-"))
        first = (low + HUGE - 1) & ~(HUGE - 1)
        starts += range(first, high & ~(HUGE - 1), HUGE)
    starts.reverse()  # popped from the end: lowest addresses (the heap) first
    return starts


_libc: ctypes.CDLL | None = None


def _madvise(address: int, length: int, advice: int) -> bool:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        _libc.madvise.restype = ctypes.c_int
    return _libc.madvise(address, length, advice) == 0
