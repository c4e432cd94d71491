"""Who the child is: an unprivileged uid and gid, and a namespace without network.

Dropping root blocks reading root-only files and signalling the grader (which
runs as root). ``RLIMIT_NPROC`` means nothing to root and counts per uid
machine-wide, so it is only a backstop here; seccomp is what stops forks.
"""

from __future__ import annotations

import os

from ._libc import unshare

CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWUSER = 0x40000000, 0x08000000, 0x04000000, 0x10000000
NOBODY = 65534


def uid_available() -> str | None:
    if os.geteuid() != 0:
        return "the grader does not run as root, so it cannot change to an unprivileged uid"
    return None


def drop(scratch: str, uid: int = NOBODY, gid: int = NOBODY) -> None:
    """Become ``uid``/``gid`` with no supplementary groups; the scratch directory becomes theirs."""
    os.chown(scratch, uid, gid)
    os.setgroups([])  # first: setgid alone keeps root's supplementary groups
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getegid() != gid or os.getgroups():
        raise OSError("the uid change did not take")


def isolate_network() -> str:
    """Called once in the zygote: children inherit a network namespace with no interfaces up.

    As root a plain network (and IPC, hostname) namespace; otherwise inside a new user namespace.
    """
    flags = CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    if os.geteuid() == 0:
        unshare(flags)
        return "net+ipc+uts namespace"
    uid, gid = os.getuid(), os.getgid()
    unshare(CLONE_NEWUSER | flags)
    # Map ourselves to ourselves, so file ownership reads the same inside.
    with open("/proc/self/setgroups", "w") as fh:
        fh.write("deny")
    with open("/proc/self/uid_map", "w") as fh:
        fh.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as fh:
        fh.write(f"{gid} {gid} 1")
    return "user+net+ipc+uts namespace"


def private_loopback() -> None:
    """In a child, before the uid drop: a network namespace of its own with the loopback up.

    For drivers whose ranks talk over TCP: they reach each other and nothing
    else, not even the ranks of another child.
    """
    import fcntl
    import socket
    import struct

    unshare(CLONE_NEWNET)
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack("16sH", fcntl.ioctl(s, siocgifflags, struct.pack("16sH14x", b"lo", 0))[:18])[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH14x", b"lo", flags | iff_up))


def network_isolated() -> bool:
    """True when no interface but loopback exists here (and loopback is down)."""
    try:
        with open("/proc/self/net/dev") as fh:
            names = [line.split(":")[0].strip() for line in fh.readlines()[2:]]
    except OSError:
        return False
    return names == ["lo"]


CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18


def _hidden_ancestor(path: str) -> str | None:
    """The topmost ancestor of ``path`` the unprivileged uid cannot traverse (a 0700 /root, say)."""
    parts = os.path.abspath(path).split(os.sep)[1:]
    for i in range(1, len(parts)):
        ancestor = os.sep + os.path.join(*parts[:i])
        try:
            if not os.stat(ancestor).st_mode & 0o001:
                return ancestor
        except OSError:
            return None
    return None


def expose(paths: list[str]) -> list[str]:
    """Make ``paths`` reachable for the unprivileged uid, in the zygote's own mount namespace.

    A pyenv under a 0700 /root is the usual case: the zygote covers /root with
    an empty world-traversable tmpfs (so the rest of /root stays out of sight)
    and binds just the needed trees back in. Returns the covered ancestors.
    Root only; nothing changes outside this process and its children.
    """
    from ._libc import mount

    existing = sorted({os.path.abspath(p) for p in paths if os.path.isdir(p)})
    # Only the outermost trees: binding a tree brings its subtrees along.
    outer = [p for p in existing if not any(p != q and p.startswith(q + os.sep) for q in existing)]
    by_ancestor: dict[str, list[str]] = {}
    for path in outer:
        top = _hidden_ancestor(path)
        if top is not None:
            by_ancestor.setdefault(top, []).append(path)
    if not by_ancestor:
        return []
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks to the host
    for top, inner in by_ancestor.items():
        fds = {p: os.open(p, os.O_PATH | os.O_CLOEXEC) for p in inner}
        try:
            mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
            for path, fd in fds.items():
                os.makedirs(path, mode=0o755, exist_ok=True)
                mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        finally:
            for fd in fds.values():
                os.close(fd)
    return sorted(by_ancestor)
