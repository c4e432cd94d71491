"""Resource limits and the capped output of a child.

The address-space cap is relative to what the zygote has mapped already (torch
alone maps about 620 MiB, so an absolute cap of 512 MiB would break it).
"""

from __future__ import annotations

import io
import os
import resource
import signal
import sys

MiB = 1024 * 1024


def mapped_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _cap(which: int, value: int) -> None:
    _soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def apply(limits: dict, baseline: int) -> dict:
    """Set the rlimits; returns them (bytes, seconds, counts) for the report."""
    # A write past RLIMIT_FSIZE fails with EFBIG instead of killing the child.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    applied = {
        "core": 0,
        "cpu_s": int(limits.get("cpu_s", 60)),
        "fsize": int(limits.get("fsize_mib", 1) * MiB),
        "nofile": int(limits.get("nofile", 64)),
        "nproc": int(limits.get("nproc", 256)),
        "as": int(baseline + limits.get("mem_mib", 1024) * MiB),
    }
    if limits.get("as_mib"):
        applied["as"] = int(limits["as_mib"] * MiB)
    _cap(resource.RLIMIT_CORE, 0)
    _cap(resource.RLIMIT_CPU, applied["cpu_s"])
    _cap(resource.RLIMIT_FSIZE, applied["fsize"])
    _cap(resource.RLIMIT_NOFILE, applied["nofile"])
    _cap(resource.RLIMIT_NPROC, applied["nproc"])
    _cap(resource.RLIMIT_AS, applied["as"])
    return applied


class _CappedSink(io.RawIOBase):
    """Writes the first ``cap`` bytes to ``fd`` and quietly drops the rest.

    So a correct submission that prints megabytes keeps its credit: its prints
    never fail, and the grader reads only the head of the file anyway.
    """

    def __init__(self, fd: int, cap: int) -> None:
        super().__init__()
        self._fd, self._left = fd, cap

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        size = len(data)
        if self._left > 0:
            chunk = bytes(data[: self._left])
            try:
                self._left -= os.write(self._fd, chunk)
            except OSError:
                self._left = 0
        return size


def cap_output(cap: int) -> None:
    """Route Python-level stdout/stderr through capped sinks (fd 1 and 2 are the output file)."""
    sink = _CappedSink(1, cap)  # fd 2 is the same file
    for name in ("stdout", "stderr"):
        stream = io.TextIOWrapper(io.BufferedWriter(sink), encoding="utf-8",
                                  errors="backslashreplace", line_buffering=True)
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
