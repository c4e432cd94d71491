"""A zygote that forks many children moves its heap to huge pages (gradkata/worker/hugepages.py)."""

from __future__ import annotations

import ctypes
import mmap
import time

import pytest

from gradkata.doctor import spawn_cost_ms
from gradkata.pool import Zygote
from gradkata.worker.hugepages import AFTER, HUGE, MADV_COLLAPSE, _madvise


def _unsupported() -> str | None:
    """Why this kernel cannot collapse a populated, aligned anonymous range (None: it can)."""
    region = mmap.mmap(-1, 2 * HUGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        region.write(b"x" * len(region))
        address = ctypes.addressof(ctypes.c_char.from_buffer(region))
        if not _madvise((address + HUGE - 1) & ~(HUGE - 1), HUGE, MADV_COLLAPSE):
            return f"MADV_COLLAPSE refused here (errno {ctypes.get_errno()}): Linux < 6.1 or THP off"
        return None
    finally:
        region.close()


def _huge_kib(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        return sum(int(line.split()[1]) for line in fh if line.startswith("AnonHugePages:"))


def test_a_zygote_that_forks_many_children_moves_its_heap_to_huge_pages() -> None:
    why = _unsupported()
    if why:
        pytest.skip(why)
    with Zygote(drivers=["clip_by_value"]) as zygote:
        pid = zygote.proc.pid
        before = _huge_kib(pid)
        spawn_cost_ms(zygote, AFTER - 1)  # forks that many children, each importing a trivial module
        time.sleep(0.5)
        assert _huge_kib(pid) == before, "collapsing started before the zygote had forked enough children"
        spawn_cost_ms(zygote, 1)
        deadline = time.monotonic() + 30
        while _huge_kib(pid) < before + 64 * 1024 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _huge_kib(pid) >= before + 64 * 1024, f"{_huge_kib(pid)} KiB in huge pages, {before} before"
        spawn_cost_ms(zygote, 1)  # and a child still starts from the collapsed heap (the handshake raises if not)
