"""One forked child: confine itself, import a submission (one kata's file, or several katas' of one
submission in a shared child), answer calls.

Order matters: every confinement is applied before the submission is
imported, and Landlock and seccomp are per-thread, so they go on before
anything could start a thread.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import signal
import socket
import sys
import traceback

from . import harness as drivers
from . import sandbox, state, wire

HARNESS_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
MAX_TEXT = 2000


def _redirect_stdio(scratch: str) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    out = os.open(os.path.join(scratch, "output.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)


def _error(exc: BaseException, source: str) -> dict:
    # Keep only the frames from the submission: the harness is not the student's business.
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == source]
    where = [f"line {f.lineno}: {(f.line or '').strip()[:200]}" for f in frames[-3:]]
    try:
        text = str(exc)[:MAX_TEXT]
    except Exception:
        text = "<unprintable>"
    return {"type": type(exc).__name__[:100], "message": text, "where": where}


def _load(scratch: str, source: str, module_name: str, code_cache: dict):
    path = os.path.join(scratch, source)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # only for a path without a .py suffix
        raise ImportError(f"cannot import {path}: the submission must be saved as a .py file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    with open(path, "rb") as fh:
        data = fh.read()
    # A file that holds several katas is executed once per kata, each time as a module of its
    # own (its globals start fresh for each kata, as in a child of its own); compiled once.
    code = code_cache.get(data)
    if code is None:
        code = code_cache[data] = compile(data, path, "exec", dont_inherit=True)
    exec(code, module.__dict__)
    return module, path


def _modules(job: dict) -> list[dict]:
    """The submission's modules to import, one per kata: several in a shared child, else one."""
    return list(job.get("modules") or [])


def _import(chan: socket.socket, scratch: str, spec: dict, code_cache: dict) -> dict[str, object] | None:
    """Import one module and say so (stage "ready" with what was found, or "import" with the
    error); returns its functions, or None when the import raised."""
    try:
        module, _ = _load(scratch, spec["source"], spec["module"], code_cache)
    except BaseException as exc:  # a submission may raise anything, SystemExit included
        wire.send(chan, {"ok": False, "stage": "import", "module": spec["module"],
                         "error": _error(exc, os.path.join(scratch, spec["source"]))})
        return None
    funcs, found = {}, {}
    for name in spec["functions"]:
        obj = getattr(module, name, None)
        found[name] = "missing" if obj is None else ("callable" if callable(obj) else "not callable")
        if callable(obj):
            funcs[name] = obj
    wire.send(chan, {"ok": True, "stage": "ready", "module": spec["module"], "found": found})
    return funcs


def _serve(chan: socket.socket, job: dict) -> None:
    specs = _modules(job)
    code_cache: dict = {}
    # Each driver calls the functions of its own kata's module (and its errors point into that file).
    by_harness: dict[str, tuple[dict, str]] = {}
    # A shared child: each module is imported from the state the child started in, and each
    # kata's calls run from the state its own module's import left (see state.py).
    shared = len(specs) > 1
    start = state.capture() if shared else None
    states: dict[str, state.State] = {}
    for spec in specs:
        if start is not None:
            state.restore(start)
        funcs = _import(chan, job["scratch"], spec, code_cache)
        by_harness[spec["harness"]] = (funcs or {}, os.path.join(job["scratch"], spec["source"]))
        if shared:
            states[spec["harness"]] = state.capture()
    only = by_harness[specs[0]["harness"]] if not shared else None  # one module: every driver uses it
    current = [""]

    def answer(name: str, scenario: object) -> None:
        if shared and name != current[0] and name in states:
            state.restore(states[name])
            current[0] = name
        funcs, source = only or by_harness.get(name, ({}, ""))
        _answer(chan, funcs, source, name, scenario)

    while True:
        req = wire.recv(chan)
        op = req.get("op")
        if op == "call":
            answer(req.get("harness", ""), req.get("scenario"))
        elif op == "calls":
            # A kata's whole list of scenarios in one request: one reply each, in
            # order, as each is done (the grader reads them while it judges).
            for one in req.get("requests", []):
                answer(one.get("harness", ""), one.get("scenario"))
        else:
            return


def _answer(chan: socket.socket, funcs: dict, source: str, name: str, scenario: object) -> None:
    if not HARNESS_NAME.match(name):
        wire.send(chan, {"ok": False, "error": {"type": "HarnessError", "message": "bad harness", "where": []}})
        return
    sandbox.tripwire_reset()
    try:
        harness = drivers.get(name)
        obs = harness.run(funcs, scenario)
        reply = {"ok": True, "obs": obs}
    except BaseException as exc:
        reply = {"ok": False, "error": _error(exc, source)}
    reply["delegated"] = sandbox.tripwire_hits()
    try:
        wire.send(chan, reply)
    except wire.ProtocolError as exc:
        wire.send(chan, {"ok": False, "error": {"type": "ProtocolError", "message": str(exc), "where": []},
                         "delegated": sandbox.tripwire_hits()})


def run(chan_fd: int, job: dict) -> None:
    """Entry point in the freshly forked child; never returns."""
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        _redirect_stdio(job["scratch"])
        low = 3
        for fd in sorted({chan_fd, *sandbox.inherited_fds()}):
            os.closerange(low, fd)
            low = fd + 1
        os.closerange(low, 65536)
        os.chdir(job["scratch"])
        chan = socket.socket(fileno=chan_fd)
        try:
            layers = sandbox.confine(job)
        except Exception as exc:  # fail closed: no submission code runs unconfined
            wire.send(chan, {"ok": False, "stage": "sandbox", "error": f"{type(exc).__name__}: {exc}"[:MAX_TEXT]})
            return
        wire.send(chan, {"ok": True, "stage": "confined", "layers": layers})
        _serve(chan, job)
    except BaseException:
        pass
    finally:
        os._exit(0)
