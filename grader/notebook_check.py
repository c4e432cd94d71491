"""Grade a function written in a Jupyter notebook, from the notebook.

``check("clip_grad_norm", clip_grad_norm)`` prints the grader's verdict and
diagnosis under the cell; ``autograde(...)`` does the same and returns the
points as the cell's value, which nbgrader records as partial credit.

Nothing the kernel holds is trusted. The kernel is where the student's code
runs, so a notebook may have patched ``torch.allclose``, NumPy or anything
else in it. Only the *source text* of the notebook's definitions (from the
kernel's cell history, or the function's file outside IPython) leaves the
kernel: a fresh grading server process (``python -m gradkata.notebook_check``,
started once per kernel) grades it with the sandboxed worker, exactly as
``gradkata grade notebook.ipynb`` would, and answers with plain JSON.

Many kernels can share one warm server instead: start
``python -m gradkata.notebook_check --listen SOCKET`` and give the kernels
``GRADKATA_GRADER_SOCKET=SOCKET`` in their environment (the notebook tests do).

The grading server writes nothing to the kernel's stderr, and neither do these
functions: nbgrader gives 0 points to a test cell with any stderr output.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import inspect
import io
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable

from .katas import get
from .notebook import cells_to_module
from .results import KataResult, Status
from .settings import GradingSettings

if TYPE_CHECKING:
    from .pool import Zygote

DEFAULT_SEED = 1  # fixed, so the notebook's score equals `gradkata grade --seed 1`
REPLY_TIMEOUT_S = 300.0


SOCKET_ENV = "GRADKATA_GRADER_SOCKET"
# Set by gradkata.notebooks.nbgrader_scores.use_gradkata_scores in nbgrader's process (its kernels inherit it).
SCORED_ENV = "GRADKATA_NBGRADER_SCORES"


class _Link:
    """One JSON request per line out, one JSON reply per line back."""

    reader: IO[bytes]
    writer: IO[bytes]

    def ask(self, request: dict) -> dict:
        self.writer.write((json.dumps(request) + "\n").encode())
        self.writer.flush()
        ready, _, _ = select.select([self.reader], [], [], REPLY_TIMEOUT_S)
        line = self.reader.readline() if ready else b""
        if not line:
            self.close()
            raise RuntimeError(f"the grading server stopped answering; {self.why()}")
        return json.loads(line)

    def alive(self) -> bool:
        raise NotImplementedError

    def why(self) -> str:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _Server(_Link):
    """A grading server of this kernel's own, a child process on stdin/stdout."""

    def __init__(self) -> None:
        fd, self.log_path = tempfile.mkstemp(prefix="gradkata-notebook-", suffix=".log")
        with os.fdopen(fd, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gradkata.notebook_check", "--serve"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=tempfile.gettempdir(),
            )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.writer, self.reader = self.proc.stdin, self.proc.stdout
        # Reap the server the moment it exits. On shutdown ipykernel signals the kernel's children and
        # waits until none is left; an unreaped (zombie) server still counts, so every kernel shutdown or
        # restart waited seconds for jupyter_client to give up and kill the kernel.
        threading.Thread(target=self.proc.wait, name="gradkata-server-reaper", daemon=True).start()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def why(self) -> str:
        try:
            return "its log: " + (Path(self.log_path).read_text(errors="replace")[-600:] or "(empty)")
        except OSError:
            return "its log is gone"

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.writer.close()
        self.reader.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log_path)


class _Shared(_Link):
    """A grading server already running (``--listen PATH``), named by $GRADKATA_GRADER_SOCKET.

    Many kernels (a test run, a course server) then share one warm grader
    instead of each starting torch and a sandbox of its own. The connection
    checks that the server is this user's own (:class:`gradkata.sockets.Client`).
    """

    def __init__(self, path: str) -> None:
        from .sockets import Client

        self.path = path
        self.client = Client(Path(path), timeout_s=REPLY_TIMEOUT_S)
        self.reader, self.writer = self.client.reader, self.client.writer
        self.open = True

    def alive(self) -> bool:
        return self.open

    def why(self) -> str:
        return f"is the server on {self.path} still running?"

    def close(self) -> None:
        self.open = False
        self.client.close()


_SERVER: _Link | None = None


def _server() -> _Link:
    global _SERVER
    if _SERVER is None or not _SERVER.alive():
        if _SERVER is not None:
            _SERVER.close()
        shared = os.environ.get(SOCKET_ENV)
        _SERVER = _Shared(shared) if shared else _Server()
    return _SERVER


def scored_outside() -> bool:
    """This kernel runs under ``nbgrader autograde`` with gradkata's scores preprocessor, which replaces
    every gradkata test cell's output with its own verdict on the notebook's source: a verdict reached
    here would be thrown away, and a grading server (torch, the sandbox) started for nothing."""
    return os.environ.get("NBGRADER_EXECUTION") == "autograde" and os.environ.get(SCORED_ENV) == "1"


def warm_up() -> None:
    """Start the grading server now, so the first check does not wait for torch to load."""
    if scored_outside():
        return
    with contextlib.suppress(OSError):
        _server()


@atexit.register
def shutdown() -> None:
    """Stop the grading server (it also stops by itself when the kernel goes)."""
    global _SERVER
    if _SERVER is not None:
        _SERVER.close()
        _SERVER = None


# --- what to send: source text only ---------------------------------------------------------

def _kernel_cells() -> list[str] | None:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None:
        return None
    return [c for c in list(shell.history_manager.input_hist_raw) if isinstance(c, str) and c.strip()]


def _file_cells(fn: Callable | None) -> list[str]:
    if fn is None:
        return []
    with contextlib.suppress(TypeError, OSError):
        return [Path(inspect.getsourcefile(fn) or "").read_text()]
    return []


def submission_source(slug: str, fn: Callable | None = None) -> tuple[str, list[str]]:
    """The module text to grade for ``slug``, and notes on what was left out."""
    kata = get(slug)
    cells = _kernel_cells()
    if cells is None:
        cells = _file_cells(fn)
    extracted = cells_to_module(cells, [f"In [{i}]" for i in range(1, len(cells) + 1)])
    code = extracted.code
    name = getattr(fn, "__name__", None)
    # check("clip_grad_norm", my_clip): grade my_clip under the kata's name.
    if len(kata.functions) == 1 and isinstance(name, str) and name.isidentifier() and name != kata.functions[0]:
        code += f"\n{kata.functions[0]} = {name}\n"
    return code, extracted.notes


# --- showing the verdict --------------------------------------------------------------------

def _report(result: KataResult, notes: list[str]) -> str:
    from .report.terminal import _kata_lines

    lines = [f"gradkata: {get(result.slug).title}", *_kata_lines(result)]
    if result.status is Status.NOT_IMPLEMENTED:
        lines.append("          Not implemented yet: replace the `raise NotImplementedError` in the exercise cell.")
    elif result.status is Status.PASSED:
        lines.append("          Every hidden check passed.")
    lines.extend(f"  note: {n}" for n in notes[:5])
    return "\n".join(lines)


def _grade(slug: str, fn: Callable | None, settings: GradingSettings) -> tuple[KataResult, list[str]]:
    code, notes = submission_source(slug, fn)
    request = {"slug": slug, "source": code, **settings.request()}
    try:
        reply = _server().ask(request)
    except (OSError, RuntimeError, ValueError) as exc:
        return KataResult(slug, 0.0, 0.0, Status.ERROR, f"the grader could not run: {exc}"), notes
    return KataResult.from_dict(reply), notes


def _quietly(run: Callable[[], tuple[KataResult, list[str]]]) -> tuple[KataResult, list[str]]:
    # Nothing may reach the kernel's stderr from here (nbgrader's zero-for-stderr rule).
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        return run()


def grade_function(slug: str, fn: Callable | None = None, *, seed: int = DEFAULT_SEED,
                   examples: int | None = None, visible_only: bool = False) -> tuple[KataResult, str]:
    """Grade the notebook's definition of ``slug`` in the sandbox: the result and its report text."""
    settings = GradingSettings.create(seed, examples, visible_only=visible_only)
    result, notes = _quietly(lambda: _grade(slug, fn, settings))
    shown = [n for n in notes if "left out" not in n]  # plots and checks are left out by design
    text = _report(result, shown)
    if visible_only:
        text += "\n  (worked examples only; the hidden tests decide the grade)"
    return result, text


def check(slug: str, fn: Callable | None = None, *, seed: int = DEFAULT_SEED,
          examples: int | None = None, visible_only: bool = False) -> None:
    """Grade the notebook's definition of ``slug`` in the sandbox and print the verdict.

    Never raises for a wrong, unfinished or crashing function: a stub reports
    "not implemented".
    """
    if scored_outside():
        print(f"gradkata: {slug} is graded from this notebook's source as nbgrader saves the scores; "
              "the graded cell shows the verdict")
        return
    print(grade_function(slug, fn, seed=seed, examples=examples, visible_only=visible_only)[1])


class Points(float):
    """A score that displays as a bare number, for nbgrader's partial credit."""

    def __repr__(self) -> str:
        return repr(float(self))


def autograde(slug: str, fn: Callable | None = None, *, seed: int = DEFAULT_SEED,
              examples: int | None = None) -> Points:
    """For an nbgrader test cell: print the verdict and return the points as the cell's value."""
    if scored_outside():
        print(f"gradkata: {slug} is graded from this notebook's source as nbgrader saves the scores")
        return Points(0.0)  # replaced, with the cell's output, by gradkata's verdict
    result, text = grade_function(slug, fn, seed=seed, examples=examples)
    print(text)
    return Points(max(0.0, result.score))


# --- the server side ------------------------------------------------------------------------

def _raises_not_implemented(node: ast.FunctionDef) -> bool:
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def is_stub(code: bytes, functions: tuple[str, ...]) -> bool:
    """Every kata function (or every method of a kata class) is still a bare ``raise NotImplementedError``.

    Such a submission needs no child: it is reported as not implemented at once.
    """
    last: dict[str, ast.stmt] = {}
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            last[node.name] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                last[alias.asname or alias.name.split(".")[0]] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                if isinstance(target, ast.Name):
                    last[target.id] = node
    return all(_is_stub_definition(last.get(name)) for name in functions)


def _is_stub_definition(node: ast.stmt | None) -> bool:
    # A decorator, a base class or a class attribute could supply a working
    # implementation: only the plain shapes of the stubs count.
    if isinstance(node, ast.FunctionDef):
        return not node.decorator_list and _raises_not_implemented(node)
    if isinstance(node, ast.ClassDef) and not (node.decorator_list or node.bases or node.keywords):
        body = node.body[1:] if ast.get_docstring(node) is not None else node.body
        return bool(body) and all(isinstance(n, ast.FunctionDef) and _is_stub_definition(n) for n in body)
    return False


class _Grader:
    """The trusted side: grades one request at a time; the sandbox starts with the first real work."""

    def __init__(self) -> None:
        from .api import grade_submission  # noqa: F401  (warms the imports before the first request)

        self.zygote: Zygote | None = None
        self.lock = threading.Lock()

    def answer(self, request: dict) -> dict:
        with self.lock:
            return self._answer(request).to_dict()

    def _answer(self, request: dict) -> KataResult:
        from .runner import grade_sources, max_points
        from .submission import check_source

        kata = get(request["slug"])
        source = check_source(request["source"].encode("utf-8"), "your notebook")
        try:
            if source.code is None:
                return KataResult(kata.slug, 0.0, max_points(kata), Status.ERROR, source.problem or "no code")
            if is_stub(source.code, kata.functions):
                # No child needed, and a notebook of stubs never starts the sandbox.
                return KataResult(kata.slug, 0.0, max_points(kata), Status.NOT_IMPLEMENTED,
                                  "every function still raises NotImplementedError")
            settings = GradingSettings.from_request(request, int(request["seed"]))
            [result] = grade_sources(self._zygote(), [kata], {kata.slug: source.code}, settings)
            return result
        except Exception as exc:  # a grader bug must not take the kernel's checker down with it
            return KataResult(kata.slug, 0.0, max_points(kata), Status.ERROR,
                              f"grader error ({type(exc).__name__}: {exc}); please report it")

    def _zygote(self) -> Zygote:
        from .pool import Zygote

        if self.zygote is None:
            self.zygote = Zygote().start()
        return self.zygote

    def close(self) -> None:
        if self.zygote is not None:
            self.zygote.close()


def answer_stdin() -> int:
    """Answer grading requests on stdin until it closes (the kernel that started this process went away)."""
    from .sockets import answer_lines, stdout_for_replies

    replies = stdout_for_replies()
    grader = _Grader()
    try:
        answer_lines(sys.stdin.buffer, replies.buffer, grader.answer)  # type: ignore[attr-defined]
    finally:
        grader.close()
    return 0


def listen(path: str) -> int:
    """Serve every kernel of this user's that connects to the Unix socket ``path``, until SIGTERM or SIGINT."""
    from .serve import code_digest
    from .sockets import LineServer, stdout_for_replies
    from ._version import __version__

    stdout_for_replies()
    server = LineServer(Path(path), lambda request: {}, {"gradkata": __version__, "digest": code_digest()})
    grader = _Grader()
    server.handle = grader.answer
    print(f"gradkata grading server listening on {path}", file=sys.stderr, flush=True)
    try:
        return server.run()
    finally:
        grader.close()


if __name__ == "__main__":
    from ._startup import one_thread

    one_thread()  # a grading process, as the command line's
    if sys.argv[1:] == ["--serve"]:
        sys.exit(answer_stdin())
    if len(sys.argv) == 3 and sys.argv[1] == "--listen":
        sys.exit(listen(sys.argv[2]))
    print("usage: python -m gradkata.notebook_check --serve  (started by gradkata.notebook_check.check)\n"
          f"       python -m gradkata.notebook_check --listen SOCKET  (then set {SOCKET_ENV}=SOCKET for the kernels)",
          file=sys.stderr)
    sys.exit(2)
