"""`gradkata serve`: a resident grader, so that `gradkata check` and `gradkata grade` start warm.

Grading in a fresh process pays Python's start, torch's import (twice: here and
in the zygote) and cold caches before the first submission: seconds that a
10-submission batch otherwise does not need. The server pays them once. It
keeps one zygote and one suite session; requests with the same settings
(katas, seed, examples, visible only) are graded in the same session, one after
another, with the examples recorded from earlier requests replayed
(:mod:`gradkata.batch.replay`); a request with other settings starts a new session.

`check` and `grade` use this user's warm grader when one runs, and start one
on first use (:func:`warm_client`): detached, stopping by itself after
``$GRADKATA_SERVER_IDLE`` seconds (default 900) with no request, replaced when
the installed grader code or its settings change (the hello carries their
:func:`code_digest`). ``--no-server`` or ``GRADKATA_NO_SERVER=1`` opts out.

Protocol (:mod:`gradkata.sockets`: a hello line, then one JSON line per request,
on a Unix socket in a directory only this user can enter),
``{"paths": [...], "katas": [...] | null, "seed": n | null, "examples": n,
"visible_only": bool, "require_sandbox": bool}``; one JSON line back,
``{"results": [SubmissionResult as a dict, ...]}`` or ``{"error": text, "usage": bool}``.
The server is trusted code reading the same files the command would; the
students' code still runs only in the zygote's sandboxed children.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from ._version import __version__

from ._errors import UsageError
from .sockets import Client, LineServer, default_socket

if TYPE_CHECKING:
    from .settings import GradingSettings

SOCKET_NAME = "grader.sock"
NO_SERVER_ENV = "GRADKATA_NO_SERVER"
IDLE_ENV = "GRADKATA_SERVER_IDLE"
DEFAULT_IDLE_S = 900.0
START_TIMEOUT_S = 120.0
# Variables that steer the server itself, not grading: a change does not make a server stale.
_NOT_SETTINGS = {NO_SERVER_ENV, IDLE_ENV}


@dataclass
class _Request:
    katas: tuple[str, ...]
    settings: GradingSettings
    paths: list[Path]
    require_sandbox: bool
    results: list[Any] = field(default_factory=list)
    error: str | None = None
    usage: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class Server:
    """One zygote and one suite session at a time, fed by :meth:`grade` from any thread."""

    def __init__(self, seed: int | None = None) -> None:
        from .settings import new_seed
        from .batch.replay import Replay
        from .pool import Zygote

        self.seed = seed if seed is not None else new_seed()
        self.zygote = Zygote().launch()
        self.replay = Replay()
        self.requests: queue.Queue[_Request | None] = queue.Queue()
        self.thread = threading.Thread(target=self._grading, name="gradkata-grading", daemon=True)
        self.thread.start()

    def grade(self, request: dict) -> dict:
        from .api import select
        from .settings import GradingSettings

        try:
            katas = tuple(k.slug for k in select(request.get("katas")))
            paths = [Path(p) for p in request["paths"]]
            settings = GradingSettings.from_request(request, self.seed)
        except Exception as exc:  # an unknown kata, a malformed request
            return {"error": str(exc) or type(exc).__name__, "usage": True}
        if not paths:
            return {"results": []}
        job = _Request(katas, settings, paths, bool(request.get("require_sandbox")), [None] * len(paths))
        self.requests.put(job)
        job.done.wait()
        if job.error is not None:
            return {"error": job.error, "usage": job.usage}
        reply: dict = {"results": [r.to_dict() for r in job.results]}
        if request.get("listing"):  # `gradkata check`'s list of the hidden checks, from the suites collected here
            from .katas import get
            from .report.terminal import check_listing

            reply["listing"] = "\n".join(check_listing(get(slug)) for slug in katas)
        return reply

    def close(self) -> None:
        self.requests.put(None)
        self.thread.join(timeout=30)
        self.zygote.close()

    def _grading(self) -> None:
        from .api import grade_many, select
        from ._errors import GradkataError, UsageError

        queued: list[_Request | None] = []  # a request taken that belongs to the next session
        while True:
            first = queued.pop() if queued else self.requests.get()
            if first is None:
                return
            current = [first]

            def work(first: _Request = first) -> Iterator[tuple[tuple[_Request, int], Path]]:
                job = first
                while True:
                    if job.require_sandbox:
                        self.zygote.require_full()
                    for i, path in enumerate(job.paths):
                        yield (job, i), path
                    following = self.requests.get()  # the session stays open while requests keep its settings
                    if following is None or (following.katas, following.settings) != (first.katas, first.settings):
                        queued.append(following)
                        return
                    job = following
                    current.append(job)

            def done(tag: tuple, result: Any) -> None:
                job, i = tag
                job.results[i] = result
                if all(r is not None for r in job.results):
                    job.done.set()

            def unreadable(tag: tuple, path: Path, exc: Exception) -> None:
                job, _ = tag
                job.error, job.usage = str(exc), True
                job.results = [r if r is not None else False for r in job.results]
                job.done.set()

            try:
                grade_many(self.zygote, work(), select(first.katas), done, first.settings, plugins=[self.replay],
                           on_unreadable=unreadable)
            except GradkataError as exc:
                for job in current:
                    if not job.done.is_set():
                        job.error, job.usage = str(exc).splitlines()[0], isinstance(exc, UsageError)
                        job.done.set()
            except BaseException as exc:  # a grader bug: tell the waiting clients, keep serving
                for job in current:
                    if not job.done.is_set():
                        job.error = f"grader error ({type(exc).__name__}: {exc})"
                        job.done.set()
            for job in current:
                if not job.done.is_set():  # every path unreadable, or no paths at all
                    job.done.set()


def run_server(path: Path | None = None, seed: int | None = None, idle_s: float | None = None) -> int:
    """Answer grading requests on the Unix socket ``path`` until SIGTERM, SIGINT, a stop request or idleness."""
    path = path if path is not None else default_socket(SOCKET_NAME)
    listener = LineServer(path, lambda request: {"error": "starting", "usage": False},
                          {"gradkata": __version__, "digest": code_digest()}, idle_s)
    try:
        server = Server(seed)
    except BaseException:
        listener.close()
        raise
    listener.handle = server.grade
    print(f"gradkata: grading server on {path} (seed {server.seed}); stop it with Ctrl-C", flush=True)
    try:
        return listener.run()
    finally:
        server.close()


# --- the client side: imports no torch -----------------------------------------------------------

def code_digest() -> str:
    """What makes a running server stale: the installed grader's code, Python, and gradkata's settings."""
    h = hashlib.sha256(f"{__version__}\0{sys.executable}\0{sys.version}\0".encode())
    for key in sorted(k for k in os.environ if k.startswith("GRADKATA_") and k not in _NOT_SETTINGS):
        h.update(f"{key}={os.environ[key]}\0".encode())
    package = Path(__file__).resolve().parent
    for file in sorted(package.rglob("*.py")):
        h.update(str(file.relative_to(package)).encode() + b"\0")
        h.update(file.read_bytes())
    return h.hexdigest()[:32]


def server_disabled() -> bool:
    return os.environ.get(NO_SERVER_ENV, "").strip() not in ("", "0")


def idle_seconds() -> float:
    raw = os.environ.get(IDLE_ENV)
    try:
        return float(raw) if raw else DEFAULT_IDLE_S
    except ValueError:
        raise UsageError(f"${IDLE_ENV}={raw!r} is not a number of seconds") from None


def _connect(path: Path) -> Client | None:
    try:
        return Client(path)
    except (FileNotFoundError, ConnectionRefusedError, ConnectionError):
        return None  # none there, or a socket left by a killed server


def warm_client(path: Path | None = None) -> Client:
    """A connection to this user's up-to-date warm grader, started (or replaced) here if need be.

    Raises :class:`UsageError` when the socket's directory or the socket is not
    this user's own.
    """
    path = path if path is not None else default_socket(SOCKET_NAME)
    digest = code_digest()
    client = _connect(path)
    if client is not None and client.hello.get("digest") == digest:
        return client
    with _start_lock(path):
        client = client or _connect(path)  # another command may have started one meanwhile
        if client is not None and client.hello.get("digest") != digest:
            _retire(client)
            client = None
        if client is None:
            client = _start(path, digest)
    return client


def _retire(client: Client) -> None:
    """Ask a stale server to stop: it frees the path before it answers."""
    with contextlib.suppress(OSError, ValueError):
        client.ask({"op": "stop"})
    client.close()


@contextlib.contextmanager
def _start_lock(path: Path) -> Iterator[None]:
    # Two commands starting at once must not start two servers on one path.
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# Started through a launcher that exits at once: the server is nobody's child, so it outlives
# the command and no process is left to reap it.
_LAUNCHER = ("import subprocess, sys; print(subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, "
             "stdout=sys.stderr, start_new_session=True).pid)")


def _start(path: Path, digest: str) -> Client:
    log = path.with_name(path.name + ".log")
    command = [sys.executable, "-m", "gradkata", "serve", "--socket", str(path), "--idle", str(idle_seconds())]
    with open(log, "wb") as out:  # the log of the latest server only
        launched = subprocess.run([sys.executable, "-I", "-S", "-c", _LAUNCHER, *command], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=out, cwd=path.parent, check=False)
    pid = int(launched.stdout or 0)
    deadline = time.monotonic() + START_TIMEOUT_S
    while pid and time.monotonic() < deadline:
        client = _connect(path)
        if client is not None and client.hello.get("digest") == digest:
            return client
        if client is not None:
            client.close()
        if not _running(pid):
            break
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-600:] if log.exists() else ""
    raise UsageError(f"the grading server did not start (log {log}): {tail.strip() or 'no output'}")


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def request(path: Path | None, payload: dict, *, start: bool = False) -> dict:
    """Send one request to a server (``start``: this user's warm one, started if need be) and return its reply."""
    if start:
        client = warm_client(path)
    else:
        where = path if path is not None else default_socket(SOCKET_NAME)
        try:
            client = Client(where)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise UsageError(f"no grading server at {where} ({exc.strerror}); start one with `gradkata serve`") \
                from None
        except ConnectionError as exc:
            raise UsageError(str(exc)) from None
    with client:
        try:
            return client.ask(payload)
        except ConnectionError as exc:
            raise UsageError(str(exc)) from None
