"""Grade a function written in a Jupyter notebook, from the notebook.

``check("clip_grad_norm", clip_grad_norm)`` prints the grader's verdict and
diagnosis under the cell; ``autograde(...)`` does the same and returns the
points as the cell's value, which nbgrader records as partial credit.

Nothing the kernel holds is trusted. The kernel is where the student's code
runs, so a notebook may have patched ``torch.allclose``, NumPy or anything
else in it. Only the *source text* of the notebook's definitions (from the
kernel's cell history, or the function's file outside IPython) leaves the
kernel: a fresh grading server process (``python -m grader.notebook_check``,
started once per kernel) grades it with the sandboxed worker, exactly as
``gradkata grade notebook.ipynb`` would, and answers with plain JSON.

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
import warnings
from pathlib import Path
from typing import Callable

from .katas import get
from .notebook import cells_to_module
from .results import KataResult, Status

DEFAULT_SEED = 1  # fixed, so the notebook's score equals `gradkata grade --seed 1`
REPLY_TIMEOUT_S = 300.0


class _Server:
    """The grading server child: one JSON request per line in, one JSON reply per line out."""

    def __init__(self) -> None:
        fd, self.log_path = tempfile.mkstemp(prefix="gradkata-notebook-", suffix=".log")
        with os.fdopen(fd, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "grader.notebook_check", "--serve"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=tempfile.gettempdir(),
            )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def ask(self, request: dict) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps(request) + "\n").encode())
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], REPLY_TIMEOUT_S)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            self.close()
            raise RuntimeError(f"the grading server stopped answering; its log: {self.log_tail()}")
        return json.loads(line)

    def log_tail(self) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")[-600:] or "(empty)"
        except OSError:
            return "(gone)"

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log_path)


_SERVER: _Server | None = None


def _server() -> _Server:
    global _SERVER
    if _SERVER is None or not _SERVER.alive():
        if _SERVER is not None:
            _SERVER.close()
        _SERVER = _Server()
    return _SERVER


def warm_up() -> None:
    """Start the grading server now, so the first check does not wait for torch to load."""
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


def _grade(slug: str, fn: Callable | None, seed: int, examples: int | None,
           visible_only: bool = False) -> tuple[KataResult, list[str]]:
    code, notes = submission_source(slug, fn)
    request = {"slug": slug, "source": code, "seed": seed, "examples": examples, "visible_only": visible_only}
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
    result, notes = _quietly(lambda: _grade(slug, fn, seed, examples, visible_only))
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
    print(grade_function(slug, fn, seed=seed, examples=examples, visible_only=visible_only)[1])


class Points(float):
    """A score that displays as a bare number, for nbgrader's partial credit."""

    def __repr__(self) -> str:
        return repr(float(self))


def autograde(slug: str, fn: Callable | None = None, *, seed: int = DEFAULT_SEED,
              examples: int | None = None) -> Points:
    """For an nbgrader test cell: print the verdict and return the points as the cell's value."""
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
    """Every kata function's last definition is a bare ``raise NotImplementedError``: no need to run it."""
    last: dict[str, ast.stmt] = {}
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            last[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                if isinstance(target, ast.Name):
                    last[target.id] = node
    defs = [last.get(name) for name in functions]
    return all(isinstance(d, ast.FunctionDef) and _raises_not_implemented(d) for d in defs)


def serve() -> int:
    """Answer grading requests on stdin until it closes (the kernel went away)."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # pytest or a warning printing to stdout must not corrupt the replies
    sys.stdout = sys.stderr
    from .api import grade_submission  # noqa: F401  (warms the imports before the first request)
    from .pool import Zygote
    from .runner import DEFAULT_EXAMPLES, grade_sources, max_points
    from .submission import check_source

    with Zygote() as zygote:
        for line in sys.stdin:
            request = json.loads(line)
            kata = get(request["slug"])
            source = check_source(request["source"].encode("utf-8"), "your notebook")
            try:
                if source.code is None:
                    result = KataResult(kata.slug, 0.0, max_points(kata), Status.ERROR, source.problem or "no code")
                elif is_stub(source.code, kata.functions):
                    result = KataResult(kata.slug, 0.0, max_points(kata), Status.NOT_IMPLEMENTED,
                                        "every function still raises NotImplementedError")
                else:
                    [result] = grade_sources(zygote, [kata], {kata.slug: source.code}, seed=int(request["seed"]),
                                             examples=int(request.get("examples") or DEFAULT_EXAMPLES),
                                             visible_only=bool(request.get("visible_only")))
            except Exception as exc:  # a grader bug must not take the kernel's checker down with it
                result = KataResult(kata.slug, 0.0, max_points(kata), Status.ERROR,
                                    f"grader error ({type(exc).__name__}: {exc}); please report it")
            replies.write(json.dumps(result.to_dict()) + "\n")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        sys.exit(serve())
    print("usage: python -m grader.notebook_check --serve  (started by grader.notebook_check.check)",
          file=sys.stderr)
    sys.exit(2)
