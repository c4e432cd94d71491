"""seccomp: a BPF filter that refuses the system calls a submission has no use for.

Hand-assembled (no libseccomp needed) for x86-64 and aarch64. Threads stay allowed (torch
may start a pool: ``clone`` with CLONE_THREAD); new processes, exec, sockets,
tracing, namespaces, mounts, kernel keyrings, BPF and io_uring (which would
bypass this filter) are refused with an error, and signals may only go to the
child itself. A filter is inherited by every thread started after it.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
from dataclasses import dataclass

from ._libc import no_new_privs, prctl

PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
AUDIT_ARCH_X86_64 = 0xC000003E
X32_BIT = 0x40000000
CLONE_THREAD = 0x00010000

RET_KILL_PROCESS, RET_ALLOW = 0x80000000, 0x7FFF0000


def RET_ERRNO(code: int) -> int:  # noqa: N802 (named like the kernel's macro)
    return 0x00050000 | code


LD_W_ABS, JEQ_K, JSET_K, JGE_K, RET_K = 0x20, 0x15, 0x45, 0x35, 0x06
OFF_NR, OFF_ARCH, OFF_ARG0 = 0, 4, 16  # struct seccomp_data; arg0's low 32 bits (little-endian)

# x86-64 numbers, from <asm/unistd_64.h>.
REFUSED = {
    # new processes and programs
    "fork": 57, "vfork": 58, "execve": 59, "execveat": 322,
    # networking (every address family: the child needs no new socket)
    "socket": 41, "socketpair": 53,
    # looking into or controlling other processes
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "pidfd_open": 434,
    "pidfd_getfd": 438, "pidfd_send_signal": 424, "process_madvise": 440, "tkill": 200,
    # namespaces, mounts, identity
    "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
    "setuid": 105, "setgid": 106, "setreuid": 113, "setregid": 114, "setresuid": 117, "setresgid": 119,
    "setgroups": 116,
    # kernel facilities a kata never needs
    "bpf": 321, "keyctl": 250, "add_key": 248, "request_key": 249, "perf_event_open": 298,
    "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "open_by_handle_at": 304, "name_to_handle_at": 303, "fanotify_init": 300, "kexec_load": 246,
    "kexec_file_load": 320, "init_module": 175, "finit_module": 313, "delete_module": 176, "reboot": 169,
    "swapon": 167, "swapoff": 168, "acct": 163, "quotactl": 179, "syslog": 103, "settimeofday": 164,
    "clock_settime": 227, "clock_adjtime": 305, "adjtimex": 159, "sethostname": 170, "setdomainname": 171,
    "iopl": 172, "ioperm": 173, "modify_ldt": 154, "personality": 135, "uselib": 134, "vhangup": 153,
    "lookup_dcookie": 212, "memfd_secret": 447, "move_pages": 279, "migrate_pages": 256,
}
# aarch64 numbers, from <asm-generic/unistd.h> (arm64 uses the generic table). It has no
# fork, vfork, iopl, ioperm, modify_ldt or uselib: new processes only come from clone/clone3.
REFUSED_AARCH64 = {
    "execve": 221, "execveat": 281,
    "socket": 198, "socketpair": 199,
    "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272, "pidfd_open": 434,
    "pidfd_getfd": 438, "pidfd_send_signal": 424, "process_madvise": 440, "tkill": 130,
    "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
    "setuid": 146, "setgid": 144, "setreuid": 145, "setregid": 143, "setresuid": 147, "setresgid": 149,
    "setgroups": 159,
    "bpf": 280, "keyctl": 219, "add_key": 217, "request_key": 218, "perf_event_open": 241,
    "userfaultfd": 282, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "open_by_handle_at": 265, "name_to_handle_at": 264, "fanotify_init": 262, "kexec_load": 104,
    "kexec_file_load": 294, "init_module": 105, "finit_module": 273, "delete_module": 106, "reboot": 142,
    "swapon": 224, "swapoff": 225, "acct": 89, "quotactl": 60, "syslog": 116, "settimeofday": 170,
    "clock_settime": 112, "clock_adjtime": 266, "adjtimex": 171, "sethostname": 161, "setdomainname": 162,
    "personality": 92, "vhangup": 58, "lookup_dcookie": 18, "memfd_secret": 447, "move_pages": 239,
    "migrate_pages": 238,
}
NR_CLONE, NR_CLONE3 = 56, 435
AF_INET = 2
NR_KILL, NR_TGKILL, NR_RT_SIGQUEUEINFO, NR_RT_TGSIGQUEUEINFO = 62, 234, 129, 297
AUDIT_ARCH_AARCH64 = 0xC00000B7


@dataclass(frozen=True)
class Table:
    """One architecture's audit tag and system call numbers."""

    audit_arch: int
    refused: dict[str, int]
    clone: int
    clone3: int
    kill: int
    self_only: tuple[int, ...]  # tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo: arg0 must be our own pid
    x32: bool  # x86-64 also accepts x32 calls (numbers with bit 30 set): refuse them all


TABLES = {
    "x86_64": Table(AUDIT_ARCH_X86_64, REFUSED, NR_CLONE, NR_CLONE3, NR_KILL,
                    (NR_TGKILL, NR_RT_SIGQUEUEINFO, NR_RT_TGSIGQUEUEINFO), True),
    "aarch64": Table(AUDIT_ARCH_AARCH64, REFUSED_AARCH64, 220, 435, 129, (131, 138, 240), False),
}


class _Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_Insn))]


def available() -> str | None:
    if platform.machine() not in TABLES:
        return f"the hand-built filter covers {' and '.join(TABLES)} only, not {platform.machine()}"
    try:
        with open("/proc/self/status") as fh:
            if "Seccomp:" not in fh.read():
                return "the kernel has no seccomp"
    except OSError:
        pass
    return None


class _Asm:
    """A tiny BPF assembler: jumps name labels, resolved to relative offsets at the end."""

    def __init__(self) -> None:
        self.code: list[tuple[int, str | int, str | int, int]] = []
        self.labels: dict[str, int] = {}

    def op(self, code: int, k: int, jt: str | int = 0, jf: str | int = 0) -> None:
        self.code.append((code, jt, jf, k & 0xFFFFFFFF))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def assemble(self) -> list[tuple[int, int, int, int]]:
        out = []
        for i, (code, jt, jf, k) in enumerate(self.code):
            def rel(target: str | int) -> int:
                offset = target if isinstance(target, int) else self.labels[target] - i - 1
                if not 0 <= offset <= 255:
                    raise ValueError("seccomp filter jump out of range")
                return offset
            out.append((code, rel(jt), rel(jf), k))
        return out


def program(own_pid: int, allow_inet: bool = False, machine: str | None = None) -> list[tuple[int, int, int, int]]:
    """The filter for a child whose pid is ``own_pid`` (signals may go only there).

    ``allow_inet``: ``socket(AF_INET, ...)`` is allowed (ranks talking over
    the loopback of the child's private network namespace); every other family stays refused.
    ``machine``: the architecture's table (default: this machine's).
    """
    table = TABLES[machine or platform.machine()]
    a = _Asm()
    eperm = RET_ERRNO(errno.EPERM)
    a.op(LD_W_ABS, OFF_ARCH)
    a.op(JEQ_K, table.audit_arch, 1, 0)
    a.op(RET_K, RET_KILL_PROCESS)  # another ABI (x86's i386, arm64's compat arm): different numbers
    a.op(LD_W_ABS, OFF_NR)
    if table.x32:
        a.op(JGE_K, X32_BIT, "deny", 0)
    if allow_inet:
        a.op(JEQ_K, table.refused["socket"], "socket", 0)
    for nr in sorted(table.refused.values()):
        a.op(JEQ_K, nr, "deny", 0)
    a.op(JEQ_K, table.clone3, "nosys", 0)  # glibc then falls back to clone, checked below
    a.op(JEQ_K, table.clone, "clone", 0)
    a.op(JEQ_K, table.kill, "kill", 0)
    for nr in table.self_only:
        a.op(JEQ_K, nr, "self", 0)
    a.op(RET_K, RET_ALLOW)
    a.label("clone")
    a.op(LD_W_ABS, OFF_ARG0)
    a.op(JSET_K, CLONE_THREAD, "allow", "deny")
    a.label("kill")  # kill(0, sig) reaches only the child's own session: it called setsid()
    a.op(LD_W_ABS, OFF_ARG0)
    a.op(JEQ_K, 0, "allow", 0)
    a.op(JEQ_K, own_pid, "allow", "deny")
    a.label("self")
    a.op(LD_W_ABS, OFF_ARG0)
    a.op(JEQ_K, own_pid, "allow", "deny")
    a.label("socket")
    a.op(LD_W_ABS, OFF_ARG0)
    a.op(JEQ_K, AF_INET, "allow", "deny")
    a.label("allow")
    a.op(RET_K, RET_ALLOW)
    a.label("deny")
    a.op(RET_K, eperm)
    a.label("nosys")
    a.op(RET_K, RET_ERRNO(errno.ENOSYS))
    return a.assemble()


def apply(allow_inet: bool = False) -> int:
    """Install the filter on this thread; returns its length in instructions."""
    insns = program(os.getpid(), allow_inet)
    array = (_Insn * len(insns))(*[_Insn(c, jt, jf, k) for c, jt, jf, k in insns])
    prog = _Prog(len(insns), ctypes.cast(array, ctypes.POINTER(_Insn)))
    no_new_privs()
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog))
    return len(insns)
