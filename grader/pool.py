"""The trusted side of the process boundary: start the zygote, fork children, talk to them.

Everything that comes back from a child is decoded by :mod:`grader.worker.wire`
(plain data only, sizes checked). A child that overruns its time, dies, or
sends garbage is killed with SIGKILL and reported as a :class:`WorkerFault`;
its exit status and output are never trusted.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import WorkerFault, WorkerStartError
from .worker import wire

WORKER_SOURCE = Path(__file__).parent / "worker"
# Single-threaded before torch is imported: forking after OpenMP has started hangs.
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "KMP_AFFINITY": "disabled",
}
BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from worker import zygote; zygote.main(int(sys.argv[2]))"


@dataclass(frozen=True)
class Limits:
    """Per-child limits. Times are wall-clock seconds, enforced with SIGKILL."""

    call_s: float = 10.0
    kata_s: float = 60.0
    import_s: float = 10.0
    cpu_s: int = 60
    fsize_mib: float = 1.0
    nofile: int = 64
    as_mib: int | None = None
    output_kib: int = 8

    def for_child(self) -> dict:
        return {"cpu_s": self.cpu_s, "fsize_mib": self.fsize_mib, "nofile": self.nofile, "as_mib": self.as_mib}


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
        confined = self._recv(self.limits.import_s)
        if not isinstance(confined, dict) or confined.get("stage") != "confined":
            self._fail("protocol", "unexpected first message")
        self.layers = [str(x) for x in confined.get("layers", [])]
        ready = self._recv(self.limits.import_s)
        if not isinstance(ready, dict) or ready.get("stage") not in ("ready", "import"):
            self._fail("protocol", "unexpected handshake")
        return ready

    def call(self, harness: str, scenario: dict) -> dict:
        if self.dead:
            raise self.dead
        try:
            wire.send(self.chan, {"op": "call", "harness": harness, "scenario": scenario})
        except OSError:
            self._fail("crash", "the worker process is gone")
        reply = self._recv(self.limits.call_s)
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            self._fail("protocol", "reply is not a dictionary with 'ok'")
        return reply

    def output(self) -> str:
        """The first few KiB the child printed (for the report only)."""
        path = self.scratch / "output.log"
        try:
            with open(path, "rb") as fh:
                data = fh.read(self.limits.output_kib * 1024 + 1)
        except OSError:
            return ""
        text = data[: self.limits.output_kib * 1024].decode("utf-8", "replace")
        if len(data) > self.limits.output_kib * 1024:
            text += f"\n[output truncated at {self.limits.output_kib} KiB]"
        return text

    def kill(self) -> None:
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
        shutil.rmtree(self.scratch, ignore_errors=True)


class Zygote:
    """A warm worker that forks one child per (submission, kata)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.root = Path(tempfile.mkdtemp(prefix="gradkata-"))
        self.proc: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.info: dict = {}
        self._count = 0

    def start(self) -> "Zygote":
        lib = self.root / "lib"
        # A private copy: the worker never sees where the project (and its solutions) lives.
        shutil.copytree(WORKER_SOURCE, lib / "worker", ignore=shutil.ignore_patterns("__pycache__"))
        (self.root / "jobs").mkdir()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.root), "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONHASHSEED": "0", "LANG": "C.UTF-8", **THREAD_ENV}
        with open(self.root / "zygote.log", "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-c", BOOT, str(lib), str(theirs.fileno())],
                pass_fds=[theirs.fileno()], env=env, cwd=self.root,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            )
        theirs.close()
        self.control = ours
        ours.settimeout(120)
        try:
            self.info = wire.decode(ours.recv(1 << 20))
        except (OSError, wire.ProtocolError) as exc:
            log = (self.root / "zygote.log").read_text(errors="replace")[-2000:]
            self.close()
            raise WorkerStartError(f"the worker did not start: {exc}\n{log}") from None
        return self

    def layers(self) -> list[str]:
        """Confinement layers the children get on this machine."""
        return sorted(k for k, v in self.info.get("layers", {}).items() if v)

    def spawn(self, source: str | bytes, *, module: str, functions: list[str], forbid: list[str] = ()) -> Child:
        """Fork a child that imports ``source`` as ``module``."""
        if self.control is None:
            self.start()
        self._count += 1
        scratch = self.root / "jobs" / f"{self._count:06d}"
        scratch.mkdir(mode=0o700)
        data = source.encode() if isinstance(source, str) else source
        (scratch / f"{module}.py").write_bytes(data)
        job = {"scratch": str(scratch), "source": f"{module}.py", "module": module,
               "functions": list(functions), "forbid": list(forbid), "limits": self.limits.for_child()}
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            socket.send_fds(self.control, [wire.encode({"op": "spawn", "job": job})], [theirs.fileno()])
            reply = wire.decode(self.control.recv(1 << 16))
        except (OSError, wire.ProtocolError) as exc:
            raise WorkerStartError(f"the zygote stopped answering: {exc}") from None
        finally:
            theirs.close()
        return Child(pid=int(reply["pid"]), chan=ours, scratch=scratch, limits=self.limits)

    def close(self) -> None:
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
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "Zygote":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
