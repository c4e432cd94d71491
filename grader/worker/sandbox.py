"""Confinement applied in each child before the submission is imported.

The layers live in :mod:`worker.confine` (one module each). ``probe()`` runs
once in the zygote: it isolates the zygote's network (children inherit that),
then forks a throw-away child that applies every layer and tests that each
one holds. ``confine(job)`` applies, in a fresh child, every layer the probe
found working and fails closed: a layer that worked in the probe but fails
now aborts the child before any submission code runs.

Order: rlimits, uid, Landlock, seccomp (it refuses setuid, so it comes after
the uid change), then the capped stdout/stderr. Landlock and seccomp are per
thread; the child is single-threaded until the submission runs, and threads it
starts later inherit both.

Tripwires on the built-in clippers make delegation visible to the grader.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from .confine import identity, landlock, limits, seccomp
from .confine import scratch as tmpfs

LAYERS = ("rlimits", "netns", "scratch", "uid", "landlock", "seccomp")
SYSTEM_READ_ONLY = ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib", "/etc/ld.so.cache",
                    "/etc/localtime", "/usr/share/zoneinfo", "/dev/urandom", "/sys/devices/system/cpu")

# Filled in by probe(), in the zygote, and inherited by every child.
_available: dict[str, bool] = {}
_baseline = 0


def _read_only_paths() -> list[str]:
    """The interpreter, its libraries and the worker's private copy: what an import can need."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths.update(p for p in sys.path if os.path.isabs(p))
    paths.update(SYSTEM_READ_ONLY)
    paths.add(f"/proc/{os.readlink('/proc/self')}")  # /proc's view of our pid: in a pid namespace it differs
    return sorted(p for p in paths if os.path.exists(p))


def _apply(name: str, job: dict) -> str:
    """Apply one layer; returns a short note."""
    if name == "rlimits":
        applied = limits.apply(job.get("limits", {}), _baseline)
        return f"address space {applied['as'] // limits.MiB} MiB, cpu {applied['cpu_s']} s, " \
               f"file size {applied['fsize'] // limits.MiB} MiB, {applied['nofile']} files, no core"
    if name == "netns":
        if not identity.network_isolated():
            raise OSError("the zygote's network namespace is gone")
        if _loopback(job):
            identity.private_loopback()
            _driver(job).setup_network()  # e.g. gloo's device: it reads /sys and netlink, refused from here on
            return "a private namespace of its own with only the loopback up (for its ranks)"
        return "no interface but a downed loopback"
    if name == "scratch":
        mib = float(job.get("limits", {}).get("scratch_mib", 16))
        tmpfs.apply(job["scratch"], mib)
        return f"private tmpfs of {mib:g} MiB over the scratch folder (a write past it: ENOSPC)"
    if name == "uid":
        identity.drop(job["scratch"])
        covered = f"; {', '.join(_exposed)} replaced by a view of the interpreter alone" if _exposed else ""
        return f"uid/gid {identity.NOBODY}, no supplementary groups{covered}"
    if name == "landlock":
        notes = landlock.apply(_read_only_paths(), [job["scratch"], os.devnull], ranks=_loopback(job))
        if _hidden["ruleset"] is not None:
            # The trusted package sits inside a readable tree (a wheel in site-packages): its
            # references, suites and mutants are taken out by one more layer, built once.
            landlock.restrict(_hidden["ruleset"])
            notes.append("the grader's own package unreadable")
        if job.get("forbid") and _guard["ruleset"] is not None:
            # A second layer, built once in the zygote: every file but PyTorch's clipping source.
            landlock.restrict(_guard["ruleset"])
            notes.append(f"PyTorch's clipping source unreadable ({len(_guard['rules'])} rules)")
        return "read-only: interpreter and libraries; read-write: scratch; " + ", ".join(notes)
    if name == "seccomp":
        inet = _loopback(job)  # the ranks' gloo sockets, in the child's own namespace
        return f"{seccomp.apply(allow_inet=inet)} BPF instructions" + ("; AF_INET sockets allowed" if inet else "")
    raise ValueError(name)


_job_limits: dict = {}


def job_limits() -> dict:
    """The limits of this child's job (empty outside a confined child)."""
    return _job_limits


def _driver(job: dict):
    name = job.get("harness") or ""
    if not name or not name.replace("_", "").isalnum():
        return None
    from .harness import get

    return get(name)  # loaded by the zygote already


def _loopback(job: dict) -> bool:
    """Does this job's driver run ranks that talk over TCP (``LOOPBACK = True``)?"""
    return bool(getattr(_driver(job), "LOOPBACK", False))


def inherited_fds() -> list[int]:
    """Descriptors a child needs from the zygote until it is confined (the prebuilt rulesets)."""
    return [fd for fd in (_guard["ruleset"], _hidden["ruleset"]) if fd is not None]


# The trusted gradkata package, when a child could otherwise read it (GRADKATA_TRUSTED, set by the
# trusted side): installed from a wheel it lies in site-packages, which every child may read.
_hidden: dict = {"dir": None, "ruleset": None}


def hide_trusted_package() -> str | None:
    """In the zygote, once Landlock is known to work: build the layer that hides the trusted package.

    Returns what it hides, or None where nothing needs hiding (an editable
    install lives outside every tree a child may read).
    """
    trusted = os.environ.get("GRADKATA_TRUSTED", "")
    if not trusted or not os.path.isdir(trusted):
        return None
    real = os.path.realpath(trusted)
    readable = [os.path.realpath(p) for p in _read_only_paths()]
    if not any(real == p or real.startswith(p.rstrip(os.sep) + os.sep) for p in readable):
        return None
    _hidden.update(dir=real, ruleset=landlock.read_file_ruleset(landlock.allow_except(["/"], {real})))
    return real


def confine(job: dict) -> list[str]:
    """Apply every available layer; returns their names. Raises if one fails."""
    _job_limits.update(job.get("limits", {}))
    applied = []
    for name in LAYERS:
        if _available.get(name):
            _apply(name, job)
            applied.append(name)
    if _available.get("pidns") and os.getpid() != int(os.readlink("/proc/self")):
        applied.append("pidns")
    if job.get("forbid") and _available.get("guard"):
        disarm()
        applied.append("guard")
    for held in (_guard, _hidden):
        if held["ruleset"] is not None:
            os.close(held["ruleset"])
            held["ruleset"] = None
    limits.cap_output(int(job.get("limits", {}).get("fsize_mib", 1) * limits.MiB))
    return applied


def _unavailable(name: str) -> str | None:
    if name in os.environ.get("GRADKATA_SANDBOX_OFF", "").split(","):
        return "turned off by the grader's settings (Limits.disable)"
    if name == "guard":
        if not _available.get("landlock"):
            return "needs Landlock (the clipping source would stay readable)"
        return _prepare_guard()
    if name == "uid":
        return identity.uid_available()
    if name == "landlock":
        return landlock.available()
    if name == "seccomp":
        return seccomp.available()
    if name == "scratch" and os.geteuid() != 0 and not _netns.get("active"):
        return "needs root or a user namespace to mount a tmpfs"
    return None


def _holds(name: str) -> str | None:
    """After confinement in the probe child: does the layer actually stop something?"""
    import socket

    try:
        if name == "uid" and os.getuid() == 0:
            return "still root"
        if name == "landlock":
            try:
                open("/etc/passwd", "rb").close()
                return "/etc/passwd is still readable"
            except PermissionError:
                pass
        if name == "seccomp":
            try:
                socket.socket(socket.AF_UNIX).close()
                return "a socket could still be created"
            except PermissionError:
                pass
        if name == "scratch" and tmpfs.capacity(os.getcwd()) > 64 * limits.MiB:
            return "the scratch folder is not the capped tmpfs"
        if name == "guard":
            for path in _guard["denied"]:
                try:
                    open(path, "rb").close()
                    return f"{path} is still readable"
                except PermissionError:
                    pass
            import torch

            p = torch.nn.Parameter(torch.ones(1))
            p.grad = torch.ones(1)
            try:
                torch.nn.utils.clip_grad_norm_([p], 1.0)
                return "torch.nn.utils.clip_grad_norm_ still works"
            except DelegationError:
                _hits.clear()
    except OSError as exc:
        return f"self-test failed: {exc}"
    return None


def _probe_child(write_fd: int, scratch: str) -> None:
    report: dict[str, dict] = {}
    job = {"scratch": scratch, "limits": {}}
    for name in LAYERS:
        if not _available.get(name):
            continue
        t0 = time.perf_counter()
        try:
            note = _apply(name, job)
        except Exception as exc:  # noqa: BLE001 -- any failure means the layer is unavailable
            _available[name] = False
            report[name] = {"active": False, "note": f"failed: {exc}"}
            continue
        report[name] = {"active": True, "note": note, "cost_ms": (time.perf_counter() - t0) * 1000}
    if _available.get("guard"):
        report["guard"] = _probe_guard()
    for name, entry in report.items():
        broken = entry["active"] and _holds(name)
        if broken:
            report[name] = {"active": False, "note": f"applied but does not hold: {broken}"}
    os.write(write_fd, json.dumps(report).encode())


def _probe_guard() -> dict:
    """Stack the guarded ruleset on the probe child's own Landlock layer, then disarm; time both."""
    note = (f"Landlock hides {len(_guard['denied'])} files of torch.nn.utils.clip_grad "
            f"({len(_guard['rules'])} rules); {len(_guard['functions'])} functions disarmed in memory")
    t0 = time.perf_counter()
    try:
        landlock.restrict(_guard["ruleset"])
        disarm()
    except Exception as exc:  # noqa: BLE001 -- any failure means the guard is unavailable
        return {"active": False, "note": f"failed: {exc}"}
    return {"active": True, "cost_ms": (time.perf_counter() - t0) * 1000, "note": note}


_netns: dict = {"active": False, "note": "prepare() was not called"}
_exposed: list[str] = []  # ancestors of the interpreter the unprivileged uid could not traverse


# --- pid namespace -----------------------------------------------------------
#
# Each child gets a pid namespace of its own: it cannot see or name any other
# process by pid. The zygote unshares before the fork and returns to its own
# namespace after it (setns, which needs root). The child is its namespace's
# init (pid 1): signals it has no handler for, sent from inside (its own
# os.kill(os.getpid(), SIGTERM), say), are ignored; the kernel's SIGKILL at the
# RLIMIT_CPU hard limit, faults (SIGSEGV) and the trusted side's SIGKILL (from
# the parent namespace) still end it. A second process as init would keep the
# usual semantics but doubled the cost of a child (another fork of the zygote's
# 700 MiB of mappings): 40 ms more per child, measured.

CLONE_NEWPID = 0x20000000
_own_pidns: list[int] = []


def _pidns_unavailable() -> str | None:
    if "pidns" in os.environ.get("GRADKATA_SANDBOX_OFF", "").split(","):
        return "turned off by the grader's settings (Limits.disable)"
    if os.geteuid() != 0:
        return "needs root: the zygote must return to its own pid namespace after each fork (setns)"
    try:
        _own_pidns.append(os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC))
    except OSError as exc:
        return f"no pid namespace handle: {exc}"
    return None


def _setns_back() -> None:
    from .confine._libc import _libc

    if _libc.setns(_own_pidns[0], CLONE_NEWPID) != 0:
        import ctypes

        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def fork(run) -> int:
    """Fork the child that runs ``run`` (which never returns); returns its pid as the zygote sees it."""
    if _available.get("pidns"):
        from .confine._libc import unshare

        unshare(CLONE_NEWPID)  # only the next child goes there, not the zygote
    try:
        pid = os.fork()
        if pid == 0:
            run()
    finally:
        if _available.get("pidns") and os.getpid() != 1:
            _setns_back()
    return pid


def _probe_pidns() -> dict:
    """In the zygote: does a forked child land in a fresh pid namespace as pid 1?"""
    read_fd, write_fd = os.pipe()
    try:
        from .confine._libc import unshare

        t0 = time.perf_counter()
        unshare(CLONE_NEWPID)
        cost = time.perf_counter() - t0
        pid = os.fork()  # not counted: every child is forked anyway
        if pid == 0:
            os.write(write_fd, str(os.getpid()).encode())
            os._exit(0)
        t0 = time.perf_counter()
        _setns_back()
        cost += time.perf_counter() - t0
        os.close(write_fd)
        seen = os.read(read_fd, 32)
    except OSError as exc:
        return {"active": False, "note": f"failed: {exc}"}
    finally:
        os.close(read_fd)
    if seen != b"1":
        return {"active": False, "note": f"the forked child saw pid {seen!r}, not 1"}
    return {"active": True, "cost_ms": cost * 1000,
            "note": "own pid namespace per child (the child is its pid 1)"}


def prepare() -> None:
    """Called first thing in the zygote, while it is single-threaded (a user namespace needs that)."""
    global _netns, _exposed
    t0 = time.perf_counter()
    try:
        if _unavailable("netns"):
            raise OSError(_unavailable("netns"))
        kind = identity.isolate_network()
        _netns = {"active": True, "note": kind, "cost_ms": (time.perf_counter() - t0) * 1000}
    except OSError as exc:
        _netns = {"active": False, "note": f"unshare failed: {exc}"}
    if identity.uid_available() is None and not _unavailable("uid"):
        try:
            _exposed = identity.expose([p for p in _read_only_paths() if not p.startswith("/proc/")])
        except OSError as exc:
            _exposed = [f"failed: {exc}"]


def probe() -> dict[str, dict]:
    """Find out, once in the zygote, which layers work here; children then apply them all.

    Returns ``{layer: {"active": bool, "note": str, "cost_ms": float}}``.
    """
    global _baseline
    report: dict[str, dict] = {"netns": _netns}
    _available["netns"] = _netns["active"]
    _available["rlimits"] = True
    for name in LAYERS:
        why = _unavailable(name)
        _available[name] = _available.get(name, True) and why is None
        if why:
            report[name] = {"active": False, "note": why}
    why = _pidns_unavailable()
    report["pidns"] = {"active": False, "note": why} if why else _probe_pidns()
    _available["pidns"] = bool(report["pidns"].get("active"))
    why = _unavailable("guard")
    _available["guard"] = why is None
    if why:
        report["guard"] = {"active": False, "note": why}
    if _available.get("landlock"):
        hide_trusted_package()
    _baseline = limits.mapped_bytes()
    report.update(_probe_in_child())
    for name in (*LAYERS, "guard"):
        _available[name] = bool(report.get(name, {}).get("active"))
    return {name: report[name] for name in (*LAYERS, "pidns", "guard") if name in report}


def _probe_in_child() -> dict[str, dict]:
    scratch = tempfile.mkdtemp(prefix="probe-", dir=os.getcwd())
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            _probe_child(write_fd, scratch)
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        data = fh.read()
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass  # the zygote ignores SIGCHLD: children are reaped for it
    import shutil

    shutil.rmtree(scratch, ignore_errors=True)
    try:
        return json.loads(data or b"{}")
    except ValueError:
        return {name: {"active": False, "note": "the probe child died"} for name in LAYERS if _available.get(name)}


# --- Delegation guard ------------------------------------------------------
#
# For a kata that asks the student to write the clipping, PyTorch's clipping
# must be out of the child's reach, not merely watched: the decision cannot
# rest on anything the child can read or patch. So (1) Landlock does not let
# the child read torch/nn/utils/clip_grad.py or its cached bytecode (a fresh
# copy by file path, compile() of the source, importlib.reload all fail with
# PermissionError), and (2) the functions the zygote already imported from that
# file have their code replaced, in place, by a tripwire: every reference to
# them (module attributes, the __wrapped__ of a decorator, closure cells, a
# name imported elsewhere, gc.get_objects()) now reaches the tripwire, and the
# original code objects are freed. Nothing in the child can run PyTorch's
# clipping any more, so nothing the child does can earn points with it.

_guard: dict = {"denied": [], "rules": [], "ruleset": None, "functions": [], "codes": []}
_hits: list[str] = []
TRIPWIRE_GLOBAL = "__gradkata_tripwire__"


class DelegationError(RuntimeError):
    pass


def _trip(name: str):
    _hits.append(name)
    raise DelegationError(
        f"this kata asks you to implement the clipping yourself; calling torch.nn.utils.{name} "
        "gives no credit here")


def _tripwire_code(name: str, nfree: int):
    """A code object that calls the tripwire, with ``nfree`` free variables (a function's
    ``__code__`` can only be swapped for one with as many as its closure has cells)."""
    free = [f"_cell{i}" for i in range(nfree)]
    lines = ["def _outer():", *(f"    {v} = None" for v in free), "    def tripped(*args, **kwargs):"]
    if free:
        lines.append(f"        ({', '.join(free)},)")
    lines += [f"        return {TRIPWIRE_GLOBAL}({name!r})", "    return tripped"]
    namespace: dict = {}
    exec(compile("\n".join(lines), "<gradkata tripwire>", "exec"), namespace)
    code = namespace["_outer"]().__code__
    return code.replace(co_name=name, co_qualname=name) if name.isidentifier() else code


def _prepare_guard() -> str | None:
    """In the zygote, after torch is imported: which files to hide and which functions to disarm."""
    import gc
    import glob
    import itertools
    import operator
    import types

    try:
        import torch.nn.utils.clip_grad as clip_grad
    except ImportError as exc:
        return f"torch.nn.utils.clip_grad cannot be imported ({exc})"
    source = os.path.realpath(clip_grad.__file__)
    cached = glob.glob(os.path.join(os.path.dirname(source), "__pycache__", "clip_grad.*"))
    denied = sorted({source, *(os.path.realpath(p) for p in cached)})
    names = {clip_grad.__file__, source}
    # The type test runs in C (a Python loop over the 250,000 objects of a heap holding torch
    # took 40 ms of the zygote's start). No isinstance: it would read __class__, which some
    # lazy torch objects answer with a FutureWarning.
    objects = gc.get_objects()
    plain = itertools.compress(objects, map(operator.is_, map(type, objects), itertools.repeat(types.FunctionType)))
    functions = [f for f in plain if f.__code__.co_filename in names]
    del objects
    # Every file on the machine but these: the child's own layer narrows it to what it may read.
    rules = landlock.allow_except(["/"], set(denied))
    _guard.update(denied=denied, rules=rules, ruleset=landlock.read_file_ruleset(rules), functions=functions,
                  codes=[_tripwire_code(getattr(f, "__name__", "clipping"), len(f.__code__.co_freevars))
                         for f in functions], module=clip_grad)
    return None


def disarm() -> None:
    """In the child: every function from PyTorch's clipping file now calls the tripwire."""
    _guard["module"].__dict__[TRIPWIRE_GLOBAL] = _trip
    for function, code in zip(_guard["functions"], _guard["codes"]):
        function.__code__ = code
    _guard["functions"] = _guard["codes"] = []  # no list of the (now dead) functions stays behind


def tripwire_reset() -> None:
    _hits.clear()


def tripwire_hits() -> list[str]:
    return sorted(set(_hits))
