"""The trusted side of the process boundary: start the zygote, fork children, talk to them.

Everything that comes back from a child is decoded by :mod:`gradkata.worker.wire`
(plain data only, sizes checked). A child that overruns its time, dies, or
sends garbage is killed with SIGKILL and reported as a :class:`WorkerFault`;
its exit status and output are never trusted.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import site
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ._errors import SandboxUnavailable, WorkerFault, WorkerStartError
from .worker import wire
from .worker.harness import driver_files

WORKER_SOURCE = Path(__file__).parent / "worker"
# gradkata itself: references, suites, mutants. Installed from a wheel it lies in
# site-packages, which children read (for torch): the worker then hides it with Landlock.
TRUSTED_PACKAGE = Path(__file__).resolve().parent
# Single-threaded before torch is imported: forking after OpenMP has started hangs.
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "KMP_AFFINITY": "disabled",
}
# -S: no site processing, so no .pth hook (an editable install's would make the
# project importable in the worker); the site-packages directories are passed instead.
BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); sys.path.extend(sys.argv[3:]); from gradkata.worker import zygote; "
        "zygote.main([int(fd) for fd in sys.argv[2].split(',')])")
# Layers a child can have; --require-sandbox wants them all.
# "guard": PyTorch's clipping unreadable and disarmed, in the children of katas that forbid delegation.
ALL_LAYERS = ("rlimits", "netns", "pidns", "scratch", "uid", "landlock", "seccomp", "guard")


@dataclass(frozen=True)
class Limits:
    """Per-child limits. Times are wall-clock seconds, enforced with SIGKILL."""

    call_s: float = 10.0
    kata_s: float = 60.0
    import_s: float = 10.0
    cpu_s: int = 60
    fsize_mib: float = 1.0
    nofile: int = 64
    as_mib: int | None = None  # absolute address-space cap; default: what the zygote maps plus mem_mib
    mem_mib: int = 1024
    nproc: int = 256
    output_kib: int = 8
    scratch_mib: float = 16.0  # the child's scratch folder is a tmpfs of this size
    collective_s: float = 2.0  # a torch.distributed collective waiting longer has lost a rank (deadlock)
    # Layers to leave off (tests, benchmarks, a machine where one misbehaves); they then count as
    # missing, so --require-sandbox refuses. Default: GRADKATA_SANDBOX_OFF="seccomp,landlock".
    disable: tuple[str, ...] = field(default_factory=lambda: tuple(
        x for x in os.environ.get("GRADKATA_SANDBOX_OFF", "").split(",") if x))

    def for_child(self) -> dict:
        return {"cpu_s": self.cpu_s, "fsize_mib": self.fsize_mib, "nofile": self.nofile, "as_mib": self.as_mib,
                "mem_mib": self.mem_mib, "nproc": self.nproc, "scratch_mib": self.scratch_mib,
                "collective_s": self.collective_s}


@dataclass(frozen=True)
class Module:
    """One kata's file of a submission, as a child imports it."""

    module: str
    source: bytes
    functions: tuple[str, ...]
    harness: str


@dataclass
class Child:
    """One sandboxed child holding one imported submission."""

    pid: int
    chan: socket.socket
    scratch: Path
    limits: Limits
    started: float = field(default_factory=time.monotonic)
    layers: list[str] = field(default_factory=list)
    dead: WorkerFault | None = None
    # Scenarios sent ahead in one request (:meth:`prefetch`): the keys whose replies
    # are still to be read, in order, and replies read but not yet asked for.
    _ahead: deque[bytes] = field(default_factory=deque)
    _pending: Counter[bytes] = field(default_factory=Counter)
    _ready: dict[bytes, deque[dict]] = field(default_factory=dict)
    # While every ask takes the next prefetched reply, the child has run exactly what
    # one call per ask would have run; a fault that strikes then names the right scenario.
    in_step: bool = True
    # The child died on a scenario read ahead of the asks: the verdict may not name
    # the scenario a call-per-ask run would have died on (the runner regrades per call).
    faulted_ahead: bool = False
    # Several katas of one submission, graded one after the other (Zygote.spawn_shared).
    shared: bool = False
    _closed: bool = False

    def _recv(self, timeout: float) -> Any:
        remaining = self.limits.kata_s - (time.monotonic() - self.started)
        timeout = min(timeout, max(remaining, 0.01))
        self.chan.settimeout(timeout)
        try:
            return wire.recv(self.chan)
        except (socket.timeout, TimeoutError):
            kind = "timeout" if timeout < remaining else "kata-timeout"
            self._fail(kind, f"no answer within {timeout:.1f} s (endless loop or very slow code?)")
        except EOFError:
            self._fail("crash", "the worker process ended during the call (a crash, os._exit or a limit)")
        except (wire.ProtocolError, OSError, ValueError) as exc:
            self._fail("protocol", f"the worker sent a malformed message ({exc})")

    def _fail(self, kind: str, message: str) -> None:
        self.kill()
        self.dead = WorkerFault(kind, message)
        raise self.dead

    def handshake(self) -> dict:
        """Wait until the child is confined and has imported its one module: that module's message."""
        return self.confined_then()

    def confined_then(self) -> dict:
        """Wait until the child is confined and has imported its first module: that module's message
        (a shared child's next modules: :meth:`imported`)."""
        confined = self._recv(self.limits.import_s)
        if isinstance(confined, dict) and confined.get("stage") == "sandbox":
            self._fail("sandbox", f"the sandbox could not be set up ({str(confined.get('error'))[:500]}); "
                       "run `gradkata doctor`")
        if not isinstance(confined, dict) or confined.get("stage") != "confined" \
                or not isinstance(confined.get("layers"), list):
            self._fail("protocol", "unexpected first message")
        self.layers = [str(x) for x in confined["layers"]]
        return self.imported()

    def imported(self) -> dict:
        """The next module's import: ``{"stage": "ready", "found": {...}}`` or ``{"stage": "import", "error": ...}``
        (each module has the import budget to itself)."""
        ready = self._recv(self.limits.import_s)
        if not isinstance(ready, dict) or ready.get("stage") not in ("ready", "import"):
            self._fail("protocol", "unexpected handshake")
        return ready

    def usable(self) -> bool:
        """Alive and not killed: a shared child's next kata may use it."""
        return self.dead is None and self.chan.fileno() != -1

    def call(self, harness: str, scenario: dict) -> dict:
        return self.call_encoded(call_message(harness, scenario))

    def call_encoded(self, message: bytes) -> dict:
        """:meth:`call` with the request already encoded (see :func:`call_message`)."""
        if self.dead:
            # A fresh exception each time: re-raising one instance would grow its
            # traceback with every call, and formatting it becomes very slow.
            raise WorkerFault(self.dead.kind, self.dead.message)
        self.drain()  # the child first finishes what it was sent ahead, in order
        try:
            wire.send_encoded(self.chan, message)
        except OSError:
            self._fail("crash", "the worker process is gone")
        reply = self._recv(self.limits.call_s)
        problem = reply_problem(reply)
        if problem:
            self._fail("protocol", problem)
        return reply

    def prefetch(self, keys: Sequence[bytes], message: bytes) -> None:
        """Send a kata's scenarios in one request (``message``: :func:`calls_message`).

        The child answers them in order as it goes; :meth:`reply` reads each reply
        when the suite asks for it, so the child computes ahead while the grader judges.
        """
        if self.dead or not keys:
            return
        try:
            wire.send_encoded(self.chan, message)
        except OSError:
            self._fail("crash", "the worker process is gone")
        self._ahead.extend(keys)
        self._pending.update(keys)

    def reply(self, key: bytes, message: bytes) -> dict:
        """The reply to the call ``message`` (hashed as ``key``): prefetched if it was, else called now."""
        ready = self._ready.get(key)
        if ready:
            reply = ready.popleft()
            if not ready:
                del self._ready[key]
            return reply
        if self._pending[key]:
            if self._ahead[0] != key:
                self.in_step = False
            while True:
                got, reply = self._read_ahead()
                if got == key:
                    return reply
                self._ready.setdefault(got, deque()).append(reply)
        return self.call_encoded(message)  # not sent ahead: e.g. a scenario built from an earlier answer

    def drain(self, within_s: float | None = None) -> None:
        """Read every reply still owed for scenarios sent ahead (they stay ready to be asked for).

        ``within_s``: give up after that long, killing the child (:class:`WorkerFault`)."""
        until = time.monotonic() + within_s if within_s is not None else None
        while self._ahead:
            self.in_step = False
            wait = self.limits.call_s if until is None else min(self.limits.call_s, until - time.monotonic())
            got, reply = self._read_ahead(max(wait, 0.001))
            self._ready.setdefault(got, deque()).append(reply)

    def _read_ahead(self, timeout: float | None = None) -> tuple[bytes, dict]:
        if self.dead:
            raise WorkerFault(self.dead.kind, self.dead.message)
        key = self._ahead.popleft()
        self._pending[key] -= 1
        try:
            reply = self._recv(self.limits.call_s if timeout is None else timeout)
            problem = reply_problem(reply)
            if problem:
                self._fail("protocol", problem)
        except WorkerFault:
            self.faulted_ahead = not self.in_step
            raise
        return key, reply

    def output_size(self) -> int:
        """How many bytes the child has printed so far (where a shared child's next kata begins)."""
        try:
            return (self.scratch / "output.log").stat().st_size
        except OSError:
            return 0

    def output(self, since: int = 0, head: int = 0) -> str:
        """The first few KiB the child printed (for the report only). A shared child's kata:
        the first ``head`` bytes (its imports), then what was printed from ``since`` on."""
        path = self.scratch / "output.log"
        cap = self.limits.output_kib * 1024 + 1
        try:
            with open(path, "rb") as fh:
                data = fh.read(min(head, cap) if since > head else cap)
                if since > head:
                    fh.seek(since)
                    data += fh.read(cap - len(data))
        except OSError:
            return ""
        text = data[: self.limits.output_kib * 1024].decode("utf-8", "replace")
        if len(data) > self.limits.output_kib * 1024:
            text += f"\n[output truncated at {self.limits.output_kib} KiB]"
        return text

    def kill(self) -> None:
        if self.chan.fileno() == -1:
            return  # killed already (the channel is closed only here)
        try:
            os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.chan.close()
        except OSError:
            pass

    def close(self) -> None:
        self.kill()
        if not self._closed:  # a shared child is closed by each of its katas
            self._closed = True
            _SWEEPER.remove(self.scratch)


class _Sweeper:
    """Removes dead children's scratch folders on a thread of its own: a removal
    costs milliseconds of the kernel's time, which the next child need not wait for.

    No count of pending folders, which a Ctrl-C between counting one and
    queueing it could leave too high (every later flush would then wait its
    whole timeout): a flush queues a marker behind the folders and waits for it.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Path | threading.Event] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def remove(self, folder: Path) -> None:
        self._queue.put(folder)
        self._running()

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every folder handed over so far is gone."""
        done = threading.Event()
        self._queue.put(done)
        self._running()
        done.wait(timeout)

    def _running(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():  # also after a fork
                self._thread = threading.Thread(target=self._run, name="gradkata-sweeper", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if isinstance(item, threading.Event):
                item.set()
            else:
                shutil.rmtree(item, ignore_errors=True)


_SWEEPER = _Sweeper()


def call_message(harness: str, scenario: dict) -> bytes:
    """The request for one call, encoded for the wire."""
    return wire.encode({"op": "call", "harness": harness, "scenario": scenario})


def calls_message(messages: Sequence[bytes]) -> bytes:
    """One request for several calls, each given as made by :func:`call_message`."""
    requests = []
    for message in messages:
        request = wire.decode(message)
        requests.append({"harness": request["harness"], "scenario": request["scenario"]})
    return wire.encode({"op": "calls", "requests": requests})


def reply_problem(reply: Any) -> str | None:
    """Schema of a call's reply: ``{"ok": True, "obs": {...}}`` or ``{"ok": False, "error": {...}}``,
    with an optional ``"delegated"`` list of names. Returns what is wrong, or None."""
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        return "the reply is not a dictionary with 'ok'"
    allowed = {"ok", "delegated", "obs" if reply["ok"] else "error"}
    if set(reply) - allowed:
        return f"the reply has unexpected fields {sorted(set(reply) - allowed)}"
    if reply["ok"] and not isinstance(reply.get("obs"), dict):
        return "the reply has no observation"
    if not reply["ok"]:
        error = reply.get("error")
        if not isinstance(error, dict) or not all(isinstance(error.get(k, ""), str) for k in ("type", "message")) \
                or not isinstance(error.get("where", []), list):
            return "the reply's error is malformed"
    delegated = reply.get("delegated", [])
    if not isinstance(delegated, list) or not all(isinstance(x, str) for x in delegated):
        return "the reply's delegation list is malformed"
    return None


def _site_dirs() -> list[str]:
    return [p for p in site.getsitepackages() if os.path.isdir(p)]


OWNER_FILE = "owner"  # in a zygote's root: "<pid> <start time>" of the process that owns it


def _start_time(pid: int) -> str | None:
    """When ``pid`` started (clock ticks since boot), so a reused pid is not taken for the owner."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def remove_stale_roots(tmp: str | None = None) -> list[Path]:
    """Remove the temp folders of zygotes whose owner is gone without cleaning up (a SIGKILL,
    an OOM kill): ours (same uid), with an owner file naming a process that no longer runs."""
    removed = []
    for path in sorted(Path(tmp or tempfile.gettempdir()).glob("gradkata-*")):
        try:
            if path.is_symlink() or not path.is_dir() or path.stat().st_uid != os.getuid():
                continue
            pid, start = (path / OWNER_FILE).read_text().split()
        except (OSError, ValueError):
            continue  # no owner file yet (being created) or not one of ours
        if _start_time(int(pid)) != start:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _new_root() -> Path:
    remove_stale_roots()
    root = Path(tempfile.mkdtemp(prefix="gradkata-"))
    (root / OWNER_FILE).write_text(f"{os.getpid()} {_start_time(os.getpid())}")
    return root


@dataclass
class Share:
    """Another trusted process's way into a running zygote (a batch worker's): pass it
    to that process (multiprocessing carries the socket) and open it with ``Zygote(share=...)``."""

    root: str
    control: socket.socket
    limits: Limits
    tag: str


def _copy_worker(lib: Path) -> None:
    """A private ``gradkata`` for the worker: the worker package and the katas' drivers, nothing else.

    The worker never sees where the project (and its references, suites and
    mutants) lives; drivers keep their import name, ``gradkata.katas.<slug>.driver``.
    """
    package = lib / "gradkata"
    shutil.copytree(WORKER_SOURCE, package / "worker", ignore=shutil.ignore_patterns("__pycache__"),
                    dirs_exist_ok=True)
    (package / "__init__.py").write_text('"""The worker\'s private gradkata: the worker package and the drivers."""\n')
    for slug, source in driver_files().items():
        (package / "katas" / slug).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, package / "katas" / slug / "driver.py")


class Zygote:
    """A warm worker that forks a child per (submission, kata), or per (submission, group of katas)
    with :meth:`spawn_shared`.

    One process owns it (starts, restarts and removes it); with ``launch(shares=n)``
    ``n`` other processes can use it too, each over its own control channel, so a
    batch imports torch into one zygote rather than one per worker.
    """

    def __init__(self, limits: Limits | None = None, drivers: Iterable[str] | None = None, *,
                 share: Share | None = None, trusted: Path = TRUSTED_PACKAGE) -> None:
        """``drivers``: the harnesses to load before the first child (default: all).
        ``trusted``: the folder children must not read (this package, wherever it is installed)."""
        self.limits = share.limits if share else limits or Limits()
        self.trusted = trusted
        self.drivers = sorted(set(drivers or ()))
        self.owned = share is None
        self.root = Path(share.root) if share else _new_root()
        self.tag = share.tag if share else ""
        self.proc: subprocess.Popen | None = None
        self.control: socket.socket | None = share.control if share else None
        self.shares: list[Share] = []
        self.info: dict = {}
        self._count = 0
        self.restarts = 0
        self._starting = share is not None

    def start(self) -> "Zygote":
        """Launch the worker and wait until it is ready."""
        self.launch()
        self.wait()
        return self

    def launch(self, shares: int = 0) -> "Zygote":
        """Start the worker without waiting: it imports torch while the caller does its own imports.

        ``shares``: how many other processes will use it (see :attr:`shares`).
        """
        # Traversable but not listable: children (another uid) reach their own scratch by its path.
        os.chmod(self.root, 0o711)
        lib = self.root / "lib"
        _copy_worker(lib)
        (self.root / "jobs").mkdir(exist_ok=True)
        os.chmod(self.root / "jobs", 0o711)
        pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(1 + shares)]
        ours, theirs = pairs[0][0], [pair[1] for pair in pairs]
        self.shares = [Share(str(self.root), pair[0], self.limits, f"w{i}-") for i, pair in enumerate(pairs[1:])]
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.root), "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONHASHSEED": "0", "LANG": "C.UTF-8", "MPLBACKEND": "Agg", **THREAD_ENV,
               "GRADKATA_SANDBOX_OFF": ",".join(self.limits.disable), "GRADKATA_TRUSTED": str(self.trusted),
               "GRADKATA_DRIVERS": ",".join(self.drivers),
               # A switch for measuring the zygote's huge pages (worker/hugepages.py) against none.
               "GRADKATA_HUGEPAGES": os.environ.get("GRADKATA_HUGEPAGES", "1")}
        with open(self.root / "zygote.log", "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", BOOT, str(lib), ",".join(str(t.fileno()) for t in theirs),
                 *_site_dirs()],
                pass_fds=[t.fileno() for t in theirs], env=env, cwd=self.root,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            )
        for sock in theirs:
            sock.close()
        self.control = ours
        self._starting = True
        return self

    def wait(self) -> None:
        """Block until a launched worker says it is ready (raises :class:`WorkerStartError` if it never does)."""
        if not self._starting or self.control is None:
            return
        self._starting = False
        self.control.settimeout(120)
        try:
            self.info = wire.decode(self.control.recv(1 << 20))
        except (OSError, wire.ProtocolError) as exc:
            log = (self.root / "zygote.log").read_text(errors="replace")[-2000:]
            self.close()
            raise WorkerStartError(f"the worker did not start: {exc}\n{log}") from None

    def layers(self) -> list[str]:
        """Confinement layers the children get on this machine, in the order they are applied."""
        self.wait()
        probed = self.info.get("layers", {})
        return [name for name in ALL_LAYERS if probed.get(name, {}).get("active")]

    def missing(self) -> dict[str, str]:
        """Layers that are not active here, each with why."""
        self.wait()
        probed = self.info.get("layers", {})
        return {name: str(probed.get(name, {}).get("note", "not probed")) for name in ALL_LAYERS
                if not probed.get(name, {}).get("active")}

    def notes(self) -> list[str]:
        return [f"sandbox layer {name} is missing: {why}" for name, why in self.missing().items()]

    def require_full(self) -> None:
        """Raise :class:`SandboxUnavailable` when any layer is missing (``--require-sandbox``)."""
        missing = self.missing()
        if missing:
            detail = "; ".join(f"{name}: {why}" for name, why in missing.items())
            raise SandboxUnavailable(f"SandboxUnavailable: refusing to grade without the full sandbox ({detail}); "
                                     "run `gradkata doctor`")

    def alive(self) -> bool:
        if not self.owned:
            return self.control is not None  # a dead shared zygote shows when it stops answering
        return self.proc is not None and self.proc.poll() is None and self.control is not None

    def restart(self) -> None:
        """Start a fresh zygote after the old one died (nothing a child does should kill it, but)."""
        self._stop()
        if not self.owned:  # the shared one is gone: go on with one of this process's own
            self.owned, self.tag = True, ""
            self.root = _new_root()
        self.restarts += 1
        self.start()

    def spawn(self, source: str | bytes, *, module: str, functions: list[str], forbid: Sequence[str] = (),
              harness: str | None = None) -> Child:
        """Fork a child that imports ``source`` as ``module`` (and will be driven by ``harness``)."""
        data = source.encode() if isinstance(source, str) else source
        return self._spawn([Module(module, data, tuple(functions), harness or "")], forbid=forbid, shared=False)

    def spawn_shared(self, modules: Sequence[Module], *, forbid: Sequence[str] = ()) -> Child:
        """Fork one child that imports several katas' modules of one submission, each as a module
        of its own, in order; read each one's import with :meth:`Child.confined_then`, then
        :meth:`Child.imported`. Calls name their kata by its driver (every module has its own)."""
        return self._spawn(modules, forbid=forbid, shared=True)

    def _spawn(self, modules: Sequence[Module], *, forbid: Sequence[str], shared: bool) -> Child:
        self.wait()
        if not self.alive():
            self.restart() if self.proc is not None or not self.owned else self.start()
        try:
            child = self._spawn_job(modules, forbid=forbid, shared=shared)
        except WorkerStartError:
            self.restart()  # one retry on a fresh zygote; a second failure is the grader's own
            child = self._spawn_job(modules, forbid=forbid, shared=shared)
        child.shared = shared
        return child

    def _spawn_job(self, modules: Sequence[Module], *, forbid: Sequence[str], shared: bool) -> Child:
        self._count += 1
        scratch = self.root / "jobs" / f"{self.tag}{self._count:06d}"
        scratch.mkdir(mode=0o700)
        for m in modules:
            (scratch / f"{m.module}.py").write_bytes(m.source)
        if self.control is None:  # spawn() starts the zygote first, so only a stop in between gets here
            raise WorkerStartError("the zygote has no control channel: call start() before spawning a child")
        # "harness": the child's own driver, for its sandbox (loopback ranks); a shared child has
        # none (a driver that needs loopback ranks never shares).
        job = {"scratch": str(scratch), "forbid": list(forbid), "limits": self.limits.for_child(),
               "harness": None if shared else modules[0].harness or None,
               "modules": [{"source": f"{m.module}.py", "module": m.module, "functions": list(m.functions),
                            "harness": m.harness} for m in modules]}
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            socket.send_fds(self.control, [wire.encode({"op": "spawn", "job": job})], [theirs.fileno()])
            reply = wire.decode(self.control.recv(1 << 16))
            pid = int(reply["pid"])  # a refusal ({"error": ...}) has none
        except (OSError, wire.ProtocolError, KeyError, TypeError, ValueError) as exc:
            ours.close()
            raise WorkerStartError(f"the zygote stopped answering or refused the child: {exc}") from None
        finally:
            theirs.close()
        return Child(pid=pid, chan=ours, scratch=scratch, limits=self.limits)

    def close(self) -> None:
        self._stop()
        _SWEEPER.flush()
        if self.owned:
            shutil.rmtree(self.root, ignore_errors=True)

    def _stop(self) -> None:
        for share in self.shares:
            share.control.close()  # our copies; the processes given them hold their own
        self.shares = []
        if self.control is not None:
            try:
                self.control.send(wire.encode({"op": "exit"}))
            except OSError:
                pass
            self.control.close()
            self.control = None
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def __enter__(self) -> "Zygote":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
