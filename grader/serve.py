"""`gradkata serve`: a resident grader, so that `gradkata grade --server` starts warm.

Grading in a fresh process pays Python's start, torch's import (twice: here and
in the zygote) and cold caches before the first submission: seconds that a
10-submission batch otherwise does not need. The server pays them once. It
keeps one zygote and one suite session; requests with the same settings
(katas, seed, examples, visible only) are graded in the same session, one after
another, with the examples recorded from earlier requests replayed
(:mod:`gradkata.batch.replay`); a request with other settings starts a new session.

Protocol: one JSON line per request on a Unix socket only this user can open,
``{"paths": [...], "katas": [...] | null, "seed": n | null, "examples": n,
"visible_only": bool, "require_sandbox": bool}``; one JSON line back,
``{"results": [SubmissionResult as a dict, ...]}`` or ``{"error": text, "usage": bool}``.
The server is trusted code reading the same files the command would; the
students' code still runs only in the zygote's sandboxed children.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SOCKET = Path(tempfile.gettempdir()) / f"gradkata-{os.getuid()}.sock"
MAX_REQUEST = 1 << 20


@dataclass
class _Request:
    settings: tuple
    paths: list[Path]
    require_sandbox: bool
    results: list[Any] = field(default_factory=list)
    error: str | None = None
    usage: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class Server:
    """One zygote and one suite session at a time, fed by :meth:`grade` from any thread."""

    def __init__(self, seed: int | None = None) -> None:
        from .api import new_seed
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

        try:
            katas = tuple(k.slug for k in select(request.get("katas")))
            paths = [Path(p) for p in request["paths"]]
            settings = (katas, int(request.get("seed") or self.seed), int(request.get("examples") or 30),
                        bool(request.get("visible_only")))
        except Exception as exc:  # an unknown kata, a malformed request
            return {"error": str(exc) or type(exc).__name__, "usage": True}
        if not paths:
            return {"results": []}
        job = _Request(settings, paths, bool(request.get("require_sandbox")), [None] * len(paths))
        self.requests.put(job)
        job.done.wait()
        if job.error is not None:
            return {"error": job.error, "usage": job.usage}
        return {"results": [r.to_dict() for r in job.results]}

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
            katas, seed, examples, visible_only = first.settings
            current = [first]

            def work():
                job: _Request | None = first
                while True:
                    if job.require_sandbox:
                        self.zygote.require_full()
                    for i, path in enumerate(job.paths):
                        yield (job, i), path
                    job = self.requests.get()  # the session stays open while requests keep its settings
                    if job is None or job.settings != first.settings:
                        queued.append(job)
                        return
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
                grade_many(self.zygote, work(), select(katas), done, seed=seed, examples=examples,
                           visible_only=visible_only, plugins=[self.replay], on_unreadable=unreadable)
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


def serve(path: Path = DEFAULT_SOCKET, seed: int | None = None, ready: threading.Event | None = None) -> int:
    """Answer requests on the Unix socket ``path`` until SIGTERM or SIGINT."""
    server = Server(seed)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if path.exists():
        path.unlink()  # a stale socket from a server that was killed
    listener.bind(str(path))
    os.chmod(path, 0o600)  # only this user's commands
    listener.listen()
    print(f"gradkata: grading server on {path} (seed {server.seed}); stop it with Ctrl-C", flush=True)
    if ready is not None:
        ready.set()
    try:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=_connection, args=(server, conn), daemon=True).start()
    except KeyboardInterrupt:
        return 0
    finally:
        listener.close()
        path.unlink(missing_ok=True)
        server.close()


def _connection(server: Server, conn: socket.socket) -> None:
    with conn, conn.makefile("rb") as reader, conn.makefile("wb") as writer:
        for line in reader:
            try:
                reply = server.grade(json.loads(line[:MAX_REQUEST]))
            except ValueError as exc:
                reply = {"error": f"malformed request: {exc}", "usage": True}
            writer.write((json.dumps(reply) + "\n").encode())
            writer.flush()


def request(path: Path, payload: dict) -> dict:
    """Send one request to a running server and return its reply (client side: imports no torch)."""
    from ._errors import UsageError

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(path))
        except OSError as exc:
            raise UsageError(f"no grading server at {path} ({exc.strerror}); start one with `gradkata serve`") \
                from None
        with sock.makefile("rb") as reader:
            sock.sendall((json.dumps(payload) + "\n").encode())
            line = reader.readline()
    if not line:
        raise UsageError(f"the grading server at {path} closed the connection")
    return json.loads(line)
