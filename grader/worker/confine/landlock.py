"""Landlock: the child sees only the interpreter, its libraries and its own scratch directory.

Everything else -- the project, its references and hidden suites, the
gradebook, other children's scratch directories -- cannot be opened, listed or
written. From ABI 4 on, TCP bind/connect is refused too; from ABI 6 on, the
child cannot signal processes outside its domain (the grader, its siblings).
Landlock is per thread: it is applied in the single-threaded child, and threads
started later inherit it.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Sequence

from ._libc import no_new_privs, syscall

NR_CREATE, NR_ADD_RULE, NR_RESTRICT = 444, 445, 446  # the same on every architecture
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH, RULE_NET_PORT = 1, 2

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR, MAKE_REG = 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8
MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM, REFER, TRUNCATE, IOCTL_DEV = (
    1 << 9, 1 << 10, 1 << 11, 1 << 12, 1 << 13, 1 << 14, 1 << 15)
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX, SCOPE_SIGNAL = 1 << 0, 1 << 1

FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
READ = EXECUTE | READ_FILE | READ_DIR
WRITE = READ | WRITE_FILE | TRUNCATE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG


class _Ruleset(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is off or unknown."""
    try:
        return syscall(NR_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    except OSError:
        return 0


def available() -> str | None:
    return None if abi() >= 1 else "the kernel has no Landlock (needs Linux 5.13+ with lsm=landlock)"


def _handled_fs(version: int) -> int:
    rights = (1 << 13) - 1
    if version >= 2:
        rights |= REFER
    if version >= 3:
        rights |= TRUNCATE
    if version >= 5:
        rights |= IOCTL_DEV
    return rights


class _NetPort(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("port", ctypes.c_uint64)]


def _ruleset(version: int, ranks: bool = False) -> int:
    attr = _Ruleset(fs=_handled_fs(version))
    size = 8
    if version >= 4:
        # Ranks (a private namespace holding only their loopback) connect to each
        # other's ephemeral ports, unknown in advance: connect stays unhandled there.
        attr.net, size = NET_BIND_TCP | (0 if ranks else NET_CONNECT_TCP), 16
    if version >= 6:
        attr.scoped, size = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL, 24
    return syscall(NR_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))


def allow_except(roots: list[str], denied: set[str]) -> list[tuple[str, int]]:
    """Rules that let a child read every tree in ``roots`` except the files in ``denied``.

    Landlock only adds rights, so a tree holding a denied file is split: the
    tree itself gets READ_DIR alone (listing, no file contents), and each entry
    in it gets the full read rights, except the denied files and the entries
    on the way to them, which are split the same way. ``denied`` are real
    paths; rules go on inodes, so a symlink leading to a denied file is
    followed and split too, and an inode already covered is not added twice.
    Returns ``(path, rights)`` pairs, file rights already masked for files.
    """
    rules: list[tuple[str, int]] = []
    seen: set[str] = set()

    def visit(path: str, resolved: bool = False) -> None:
        # An entry of a folder already resolved that is no symlink is its own real path:
        # realpath() would lstat every component again (4,000 calls for the torch tree).
        real = path if resolved else os.path.realpath(path)
        if real in seen or real in denied or not os.path.exists(real):
            return
        seen.add(real)
        is_dir = os.path.isdir(real)
        if not is_dir or not any(d.startswith(real.rstrip(os.sep) + os.sep) for d in denied):  # "/" too
            rules.append((real, READ if is_dir else READ & FILE_RIGHTS))
            return
        rules.append((real, READ_DIR))
        with os.scandir(real) as entries:
            found = sorted((entry.name, entry.is_symlink()) for entry in entries)
        for name, link in found:
            visit(os.path.join(real, name), resolved=not link)

    for root in roots:
        visit(root)
    return rules


def _allow(ruleset: int, path: str, rights: int, handled: int, masked: bool = False) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # absent here: nothing to allow
    try:
        if not masked and not os.path.isdir(path):
            rights &= FILE_RIGHTS
        rule = _PathBeneath(allowed=rights & handled, parent_fd=fd)
        syscall(NR_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH), ctypes.byref(rule),
                ctypes.c_uint32(0))
    finally:
        os.close(fd)


def read_file_ruleset(rules: Sequence[tuple[str, int]]) -> int:
    """A ruleset that handles reading files alone, allowing it where ``rules`` allow READ_FILE.

    Built once (in the zygote) and stacked in each child with :func:`restrict`:
    Landlock layers intersect, so it takes away exactly the files it leaves out
    and changes nothing else the child's own layer allows. Returns its fd.
    """
    attr = _Ruleset(fs=READ_FILE)
    ruleset = syscall(NR_CREATE, ctypes.byref(attr), ctypes.c_size_t(8), ctypes.c_uint32(0))
    try:
        for path, rights in rules:
            if rights & READ_FILE:
                _allow(ruleset, path, READ_FILE, READ_FILE, masked=True)
    except BaseException:
        os.close(ruleset)
        raise
    return ruleset


def restrict(ruleset: int) -> None:
    """Stack an already built ruleset on this thread (and its future threads)."""
    no_new_privs()
    syscall(NR_RESTRICT, ctypes.c_int(ruleset), ctypes.c_uint32(0))


def apply(read_only: list[str], read_write: list[str], listed: Sequence[tuple[str, int]] = (),
          ranks: bool = False) -> list[str]:
    """Restrict this thread (and its future threads) to the given trees. Returns notes on what is covered.

    ``listed``: more rules with their rights already worked out (see :func:`allow_except`).
    ``ranks``: TCP may bind ephemeral ports only (port 0) and connect anywhere, for
    ranks talking over the loopback of the child's own network namespace.
    """
    version = abi()
    handled = _handled_fs(version)
    ruleset = _ruleset(version, ranks)
    try:
        if ranks and version >= 4:
            rule = _NetPort(allowed=NET_BIND_TCP, port=0)
            syscall(NR_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(RULE_NET_PORT), ctypes.byref(rule),
                    ctypes.c_uint32(0))
        for path in read_only:
            _allow(ruleset, path, READ, handled)
        for path, rights in listed:
            _allow(ruleset, path, rights, handled, masked=True)
        for path in read_write:
            _allow(ruleset, path, WRITE | (IOCTL_DEV if path.startswith("/dev/") else 0), handled)
        no_new_privs()
        syscall(NR_RESTRICT, ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)
    notes = [f"ABI {version}"]
    if version < 4:
        notes.append("no TCP rules (ABI < 4)")
    elif ranks:
        notes.append("TCP: bind to ephemeral ports only, connect within the private namespace")
    if version < 6:
        notes.append("no signal scoping (ABI < 6)")
    return notes
