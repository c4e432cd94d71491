"""One core for gradkata's resident graders: JSON lines on a Unix socket only its owner can reach.

Both resident graders (``gradkata serve`` and the notebook grading server,
``python -m gradkata.notebook_check --listen``) are this: a listener that
answers one JSON request per line with one JSON reply per line. What they
grade differs; how they are reached, and who may reach them, does not.

Who may reach them, on a shared machine (a department server, a JupyterHub
node), is the point of this module:

* **The socket lives in a private directory**: ``$XDG_RUNTIME_DIR/gradkata``
  when the session has a usable runtime directory, else ``<tmp>/gradkata-<uid>``
  made 0700. A directory that is already there is used only if it is owned by
  this user, has mode 0700 and is not a symbolic link: another user who made it
  first (to receive our submissions, or to answer with grades) is refused.
* **Permissions are set before anyone can connect**: the socket is bound under
  umask 0o077, so it is 0600 from its first instant (a ``chmod`` after ``bind``
  leaves a window).
* **Peer credentials on both sides** (``SO_PEERCRED``): the server hangs up on a
  connection from another uid; the client refuses a server run by another uid,
  whatever the path (``--socket`` or ``$GRADKATA_GRADER_SOCKET`` can name a
  socket anywhere).

Protocol: on connecting, the server sends one *hello* line (``{"gradkata": version,
"digest": ..., "pid": ...}``); then each request line gets one reply line. The
client side imports neither torch nor the grader: ``gradkata check`` on a warm
server pays only Python's start.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import stat
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any, Callable, Mapping

from ._errors import UsageError

MAX_LINE = 1 << 22  # a request or reply line (a notebook's source, a batch's results)
_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process on the other end of a connected Unix socket (Linux's SO_PEERCRED)."""
    _pid, uid, _gid = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    return uid


# --- where the sockets live ---------------------------------------------------------------------

def private_dir(path: Path) -> Path:
    """``path`` as a directory only this user can enter: made 0700 if missing, verified if present.

    Raises :class:`UsageError` when the directory is a link, belongs to someone
    else, or lets others in: it may be a trap laid by another user.
    """
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{path} is not a plain directory (a link?): remove it, or set $XDG_RUNTIME_DIR")
    if info.st_uid != os.getuid():
        raise UsageError(f"{path} belongs to uid {info.st_uid}, not to you (uid {os.getuid()}): another user "
                         "may be squatting it; remove it, or set $XDG_RUNTIME_DIR")
    if stat.S_IMODE(info.st_mode) != 0o700:
        raise UsageError(f"{path} has mode {stat.S_IMODE(info.st_mode):o}, not 700: others can reach your "
                         f"grader's socket; fix it with `chmod 700 {path}`")
    return path


def runtime_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """This user's private folder for gradkata's sockets (made and verified on first use)."""
    xdg = environ.get("XDG_RUNTIME_DIR")
    if xdg and _usable_runtime_dir(Path(xdg)):
        return private_dir(Path(xdg) / "gradkata")
    return private_dir(Path(tempfile.gettempdir()) / f"gradkata-{os.getuid()}")


def _usable_runtime_dir(path: Path) -> bool:
    # The XDG spec: owned by the user, mode 0700. One that is not (a stale value from
    # `su`, a container) is ignored rather than trusted.
    try:
        info = os.stat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077 == 0


def default_socket(name: str = "grader.sock", environ: Mapping[str, str] = os.environ) -> Path:
    return runtime_dir(environ) / name


# --- the server side ----------------------------------------------------------------------------

def bind(path: Path) -> socket.socket:
    """A listening socket at ``path``, 0600 from the moment it exists; a stale socket there is replaced."""
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise UsageError(f"{path} exists and is not a socket: choose another path")
        if _answers(path):
            raise UsageError(f"a grading server already listens on {path}")
        path.unlink()  # left by a server that was killed
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o077)  # process-wide, for the instant of bind: the socket is born 0600
    try:
        listener.bind(str(path))
    except OSError as exc:
        listener.close()
        raise UsageError(f"cannot listen on {path}: {exc.strerror}") from None
    finally:
        os.umask(old)
    listener.listen()
    return listener


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


Handler = Callable[[dict], dict]


def answer_lines(reader: IO[bytes], writer: IO[bytes], handle: Handler,
                 before_stopping: Callable[[], None] = lambda: None) -> bool:
    """Answer each JSON line from ``reader`` with ``handle``'s reply on ``writer``, until it closes.

    Returns True when a request asked the server to stop (``{"op": "stop"}``);
    ``before_stopping`` runs before that request is answered (a server frees its
    path, so that the client that asked can start a successor there at once).
    """
    for line in reader:
        try:
            request = json.loads(line[:MAX_LINE])
            if not isinstance(request, dict):
                raise ValueError("a request is a JSON object")
        except ValueError as exc:
            reply: dict = {"error": f"malformed request: {exc}", "usage": True}
        else:
            if request.get("op") == "stop":
                before_stopping()
                writer.write(b'{"stopping": true}\n')
                writer.flush()
                return True
            reply = handle(request)
        writer.write((json.dumps(reply) + "\n").encode())
        writer.flush()
    return False


class LineServer:
    """Accept connections on ``path`` and answer them with ``handle``, each in its own thread.

    Stops on SIGTERM or SIGINT, on a ``{"op": "stop"}`` request from its owner, or
    after ``idle_s`` seconds with no connection open (None: never).
    """

    def __init__(self, path: Path, handle: Handler, hello: dict, idle_s: float | None = None) -> None:
        self.path, self.handle, self.idle_s = path, handle, idle_s
        self.hello = (json.dumps({**hello, "pid": os.getpid()}) + "\n").encode()
        self.listener = bind(path)
        self.inode = os.stat(path).st_ino
        self.lock = threading.Lock()
        self.open_connections = 0
        self.last_activity = time.monotonic()
        self.stopping = threading.Event()

    def run(self) -> int:
        with self.lock:
            self.last_activity = time.monotonic()  # idle from now: the server may have taken long to get ready
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, lambda *_: self.stopping.set()) if main else None
        try:
            while not self.stopping.is_set() and not self._idle():
                ready, _, _ = select.select([self.listener], [], [], 0.5)
                if ready:
                    conn, _ = self.listener.accept()
                    threading.Thread(target=self._connection, args=(conn,), daemon=True).start()
        except KeyboardInterrupt:
            pass
        finally:
            if main:
                signal.signal(signal.SIGTERM, previous)
            self.close()
        return 0

    def close(self) -> None:
        self.listener.close()
        self._free_path()

    def _free_path(self) -> None:
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == self.inode:  # never a successor's socket
                self.path.unlink()

    def _idle(self) -> bool:
        with self.lock:
            return (self.idle_s is not None and self.open_connections == 0
                    and time.monotonic() - self.last_activity > self.idle_s)

    def _connection(self, conn: socket.socket) -> None:
        with conn:
            if peer_uid(conn) != os.getuid():
                return  # another user: not a word, not a grade
            with self.lock:
                self.open_connections += 1
            try:
                conn.sendall(self.hello)
                with conn.makefile("rb") as reader, conn.makefile("wb") as writer:
                    if answer_lines(reader, writer, self.handle, before_stopping=self._free_path):
                        self.stopping.set()
            except OSError:
                pass  # the client went away mid-reply
            finally:
                with self.lock:
                    self.open_connections -= 1
                    self.last_activity = time.monotonic()


def stdout_for_replies() -> IO[str]:
    """The real stdout, for a server's own messages; print() from graded code or a warning goes to stderr."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return replies


# --- the client side ----------------------------------------------------------------------------

class Client:
    """A connection to a resident grader run by this user: ``hello``, then :meth:`ask` per request."""

    def __init__(self, path: Path, timeout_s: float | None = None) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(str(path))
            owner = peer_uid(self.sock)
            if owner != os.getuid():
                raise UsageError(f"socket {path} belongs to uid {owner}: a grading server run by another user "
                                 "could read your code and invent your grades; refusing it (remove the socket, "
                                 "or give a path in your own directory)")
            self.reader = self.sock.makefile("rb")
            self.writer = self.sock.makefile("wb")
            self.hello = self._line()
        except BaseException:
            self.close()
            raise

    def ask(self, request: dict) -> dict:
        self.writer.write((json.dumps(request) + "\n").encode())
        self.writer.flush()
        return self._line()

    def _line(self) -> dict:
        ready, _, _ = select.select([self.reader], [], [], self.timeout_s)
        line = self.reader.readline(MAX_LINE) if ready else b""
        if not line:
            raise ConnectionError(f"the grading server at {self.path} closed the connection")
        reply: Any = json.loads(line)
        if not isinstance(reply, dict):
            raise ConnectionError(f"the grading server at {self.path} broke the protocol")
        return reply

    def close(self) -> None:
        for stream in (getattr(self, "reader", None), getattr(self, "writer", None), self.sock):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
