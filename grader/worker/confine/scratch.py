"""A size cap on the child's scratch folder: a private tmpfs mounted over it.

Without it a child could fill the grader's disk, one file at a time (RLIMIT_FSIZE
caps each file, not their number), until its time ran out. The tmpfs lives in
the child's own mount namespace: the trusted side still sees the folder as it
wrote it (the submission's source, and output.log, whose file descriptor the
child opened before the mount). A write past the cap fails with ENOSPC in the
student's code; the grader, which never writes there after the spawn, is
unaffected. Needs CAP_SYS_ADMIN: root, or the zygote's own user namespace.
"""

from __future__ import annotations

import os

from ._libc import mount, unshare

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18


def apply(scratch: str, mib: float, keep: tuple[str, ...] = ("output.log",)) -> int:
    """Mount a ``mib`` MiB tmpfs over ``scratch``, carrying its files over; returns bytes carried."""
    files = {}
    for name in os.listdir(scratch):
        path = os.path.join(scratch, name)
        if name not in keep and os.path.isfile(path):
            with open(path, "rb") as fh:
                files[name] = fh.read()
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing mounted here reaches the host
    mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, f"size={max(int(mib * 1024), 64)}k,mode=0700")
    for name, data in files.items():
        with open(os.path.join(scratch, name), "wb") as fh:
            fh.write(data)
    os.chdir(scratch)  # the old working directory is the folder underneath
    return sum(len(d) for d in files.values())


def capacity(scratch: str) -> int:
    st = os.statvfs(scratch)
    return st.f_blocks * st.f_frsize
