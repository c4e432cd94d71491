"""The warm zygote: imports torch once, then forks one child per (submission, kata).

Started by the trusted side with a clean environment and single-threaded
settings (torch hangs in a forked child whose parent already started its
OpenMP pool). It never imports the grader, references, suites or mutants.

Control channels (SOCK_SEQPACKET sockets, one message per packet; one per
trusted process using this zygote): the trusted side sends
``{"op": "spawn", "job": {...}}`` with the child's channel socket attached as
a file descriptor; the zygote forks and answers ``{"pid": n}``. It exits when
every channel has sent ``{"op": "exit"}`` or closed.
"""

from __future__ import annotations

import gc
import os
import selectors
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING, cast

from . import wire

if TYPE_CHECKING:
    from .hugepages import Collapser

CONTROL_MAX = 1 << 20


# The unprivileged uid may be unable to read the interpreter's own library
# (a pyenv under /root, say), so what a submission may reasonably import is
# imported here, once; children find it in sys.modules.
PRELOAD = ("math", "cmath", "random", "itertools", "functools", "collections", "collections.abc", "typing",
           "dataclasses", "copy", "numbers", "statistics", "operator", "warnings", "time", "re", "string",
           "fractions", "decimal", "heapq", "bisect", "enum", "abc", "contextlib", "types", "traceback",
           "linecache", "inspect", "json", "struct", "array", "io", "textwrap", "pprint", "weakref")


def _warm_up(drivers: list[str]) -> dict:
    t0 = time.perf_counter()
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    import numpy  # noqa: F401
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    # Touch the code paths children will use, so their first call is warm.
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.ones(3)
    torch.nn.utils.clip_grad_norm_([p], 1.0)
    torch.nn.functional.mse_loss(torch.nn.Linear(2, 1)(torch.ones(1, 2)), torch.ones(1, 1)).backward()
    from . import child, harness, sandbox  # noqa: F401

    # Only the drivers of the katas to be graded (the optimizer warm-up and
    # matplotlib cost seconds); another one is loaded when its first child is asked for.
    for name in drivers or sorted(harness.NAMES):
        harness.load(name)
    warmup_s = time.perf_counter() - t0
    return {"warmup_s": warmup_s, "layers": sandbox.probe(), "mapped_mib": sandbox.limits.mapped_bytes() >> 20}


def _drivers() -> list[str]:
    return [name for name in os.environ.get("GRADKATA_DRIVERS", "").split(",") if name]


def main(control_fds: list[int]) -> None:
    """Serve spawn requests on every control channel until each has said "exit" or closed.

    A batch shares one zygote among its worker processes, one channel each.
    """
    # No garbage collection while torch loads (some 300,000 objects, walked again and again as
    # they arrive, for next to no garbage); gc.freeze() below takes them out of its sight.
    gc.disable()
    from . import sandbox

    sandbox.prepare()  # before torch could start a thread
    controls = [socket.socket(fileno=fd) for fd in control_fds]
    # Children are reaped automatically; the trusted side watches them itself.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    info = _warm_up(_drivers())
    # Children share the warmed heap copy-on-write; a garbage collection in a child
    # would write to every object's header and copy the whole heap page by page.
    gc.freeze()
    gc.enable()  # children collect as before
    for control in controls:
        control.send(wire.encode({"ready": True, **info}))
    from . import child, harness
    from .hugepages import Collapser

    collapser = Collapser()
    selector = selectors.DefaultSelector()
    for control in controls:
        selector.register(control, selectors.EVENT_READ)
    while selector.get_map():
        # Requests first: the heap is collapsed a range at a time while none waits.
        ready = selector.select(0 if collapser.busy() else None)
        if not ready:
            collapser.step()
        for key, _ in ready:
            control = cast(socket.socket, key.fileobj)  # only the sockets in `controls` are registered
            if not _answer(control, controls, child, harness, collapser):
                selector.unregister(key.fileobj)
                control.close()
    sys.exit(0)


def _answer(control: socket.socket, controls: list[socket.socket], child, harness, collapser: Collapser) -> bool:
    """Handle one request; False when this channel is done."""
    try:
        data, fds, _flags, _addr = socket.recv_fds(control, CONTROL_MAX, 1)
    except (OSError, EOFError):
        return False
    if not data:
        return False
    msg = wire.decode(data)
    if msg.get("op") != "spawn" or len(fds) != 1:
        for fd in fds:
            os.close(fd)
        if msg.get("op") == "exit":
            return False
        control.send(wire.encode({"error": "bad request"}))
        return True
    try:
        names = [msg["job"].get("harness")] + [m.get("harness") for m in msg["job"].get("modules") or []]
        for name in names:
            if name:
                harness.load(str(name))  # here, unconfined and once, not in every child
    except (ValueError, ImportError) as exc:
        os.close(fds[0])
        control.send(wire.encode({"error": f"driver: {exc}"[:500]}))
        return True
    from . import sandbox

    def run() -> None:
        for other in controls:
            other.close()
        child.run(fds[0], msg["job"])  # never returns

    try:
        pid = sandbox.fork(run)
    except OSError as exc:
        os.close(fds[0])
        control.send(wire.encode({"error": f"fork: {exc}"[:500]}))
        return True
    os.close(fds[0])
    control.send(wire.encode({"pid": pid}))
    collapser.forked()
    return True


if __name__ == "__main__":
    main([int(fd) for fd in sys.argv[1].split(",")])
