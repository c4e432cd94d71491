"""A zygote that forks many children moves its heap to huge pages (gradkata/worker/hugepages.py)."""

from __future__ import annotations

import ctypes
import mmap
import time

import pytest

from gradkata.doctor import PROBE_SOURCE
from gradkata.pool import Zygote
from gradkata.worker.hugepages import AFTER, HUGE, MADV_COLLAPSE


def _unsupported() -> str | None:
    """Why this kernel cannot collapse a populated, aligned anonymous range (None: it can)."""
    region = mmap.mmap(-1, 2 * HUGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        region.write(b"x" * len(region))
        address = ctypes.addressof(ctypes.c_char.from_buffer(region))
        start = (address + HUGE - 1) & ~(HUGE - 1)
        if start + HUGE > address + len(region):
            start -= HUGE  # cannot happen for 2 x HUGE, but stay inside the mapping
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        if libc.madvise(start, HUGE, MADV_COLLAPSE) != 0:
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
        for _ in range(AFTER - 1):
            child = zygote.spawn(PROBE_SOURCE, module="probe", functions=["f"])
            child.handshake()
            child.close()
        time.sleep(0.5)
        assert _huge_kib(pid) == before, "collapsing started before the zygote had forked enough children"
        child = zygote.spawn(PROBE_SOURCE, module="probe", functions=["f"])
        child.handshake()
        child.close()
        deadline = time.monotonic() + 30
        while _huge_kib(pid) < before + 64 * 1024 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _huge_kib(pid) >= before + 64 * 1024, f"{_huge_kib(pid)} KiB in huge pages, {before} before"
        # And children still work from the collapsed heap.
        child = zygote.spawn(PROBE_SOURCE, module="probe", functions=["f"])
        child.handshake()
        child.close()
