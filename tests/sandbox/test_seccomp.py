"""The hand-assembled seccomp filters, run on a small BPF interpreter: one check per
architecture, so the aarch64 table is tested on an x86-64 machine too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gradkata.worker.confine import seccomp

EPERM, ENOSYS = 1, 38
ALLOW = seccomp.RET_ALLOW
PID = 4242


def run(program: list[tuple[int, int, int, int]], arch: int, nr: int, arg0: int = 0) -> int:
    """Classic BPF over struct seccomp_data, just the instructions the assembler emits."""
    data = {seccomp.OFF_NR: nr, seccomp.OFF_ARCH: arch, seccomp.OFF_ARG0: arg0}
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = program[pc]
        pc += 1
        if code == seccomp.LD_W_ABS:
            acc = data[k]
        elif code == seccomp.RET_K:
            return k
        else:
            taken = {seccomp.JEQ_K: acc == k, seccomp.JGE_K: acc >= k, seccomp.JSET_K: bool(acc & k)}[code]
            pc += jt if taken else jf


@pytest.mark.parametrize("machine", sorted(seccomp.TABLES))
def test_filter_refuses_allows_and_checks_the_arch(machine: str) -> None:
    table = seccomp.TABLES[machine]
    program = seccomp.program(PID, machine=machine)
    verdict = lambda nr, arg0=0: run(program, table.audit_arch, nr, arg0)  # noqa: E731
    for name, nr in table.refused.items():
        assert verdict(nr) == seccomp.RET_ERRNO(EPERM), name
    allowed = {0, 1, 3, 9, 63, 64, 56 if machine == "aarch64" else 257}  # read/write/openat-like numbers
    for nr in allowed - set(table.refused.values()) - {table.clone, table.clone3, table.kill, *table.self_only}:
        assert verdict(nr) == ALLOW, nr
    assert verdict(table.clone, seccomp.CLONE_THREAD) == ALLOW  # a thread
    assert verdict(table.clone, 17) == seccomp.RET_ERRNO(EPERM)  # a process (SIGCHLD)
    assert verdict(table.clone3) == seccomp.RET_ERRNO(ENOSYS)
    assert verdict(table.kill, PID) == ALLOW and verdict(table.kill, 0) == ALLOW
    assert verdict(table.kill, 1) == seccomp.RET_ERRNO(EPERM)
    for nr in table.self_only:
        assert verdict(nr, PID) == ALLOW and verdict(nr, PID + 1) == seccomp.RET_ERRNO(EPERM)
    other = next(t.audit_arch for m, t in seccomp.TABLES.items() if m != machine)
    assert run(program, other, 0) == seccomp.RET_KILL_PROCESS
    if table.x32:
        assert verdict(seccomp.X32_BIT | 1) == seccomp.RET_ERRNO(EPERM)


HEADER = Path("/usr/include/asm-generic/unistd.h")


@pytest.mark.skipif(not HEADER.exists(), reason="no kernel headers (linux-libc-dev) here")
def test_aarch64_numbers_match_the_generic_table() -> None:
    numbers = {m[0]: int(m[1]) for m in re.findall(r"#define __NR(?:3264)?_(\w+)\s+(\d+)", HEADER.read_text())}
    table = seccomp.TABLES["aarch64"]
    for name, nr in table.refused.items():
        assert numbers[name] == nr, name
    assert (numbers["clone"], numbers["clone3"], numbers["kill"]) == (table.clone, table.clone3, table.kill)
    assert tuple(numbers[n] for n in ("tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")) == table.self_only
