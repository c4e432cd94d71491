"""The trusted worker processes of a batch: each owns one warm zygote and grades one student at a time.

They run trusted code only (suites, references); the students' code runs in
the zygote's children, exactly as in `gradkata grade`. Results travel back to
the parent as plain dictionaries.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path
from typing import Any

_STATE: dict[str, Any] = {}
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # If the batch is killed (even with SIGKILL) its workers, and through their
    # closed control sockets the zygotes, go too: nothing is left running.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:
        os._exit(1)


def init(slugs: list[str], call_s: float | None, replay: bool) -> None:
    """Process initialiser: start this worker's zygote once, for every student it will grade."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    import torch

    torch.set_num_threads(1)  # one process per core already
    from ..katas import get
    from ..pool import Limits, Zygote

    _STATE["katas"] = [get(s) for s in slugs]
    _warm_up(_STATE["katas"])
    _STATE["limits"] = Limits(call_s=call_s) if call_s else Limits()
    _STATE["zygote"] = Zygote(_STATE["limits"]).start()
    _STATE["plugins"] = []
    from .replay import freeze_hypothesis_constants

    freeze_hypothesis_constants()  # every worker, whatever it graded first, draws the same examples
    if replay:
        from .replay import Replay

        _STATE["plugins"] = [Replay()]


def _warm_up(katas) -> None:
    """Pay the one-off costs before the first student, so every student costs alike."""
    import torch

    from ..runner import max_points

    # The first optimizer built in a process imports torch._dynamo (seconds);
    # the training katas' references build one per scenario.
    torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1)
    for kata in katas:
        max_points(kata)  # one collection per kata, remembered for the process


def _restart_zygote() -> None:
    from ..pool import Zygote

    _STATE["zygote"].close()
    _STATE["zygote"] = Zygote(_STATE["limits"]).start()


def _unreadable(path: Path, katas, seed: int, version: str, reason: str) -> dict:
    from ..results import KataResult, Status, SubmissionResult
    from ..runner import max_points

    return SubmissionResult(str(path), [KataResult(k.slug, 0.0, max_points(k), Status.ERROR, reason) for k in katas],
                            seed=seed, grader_version=version).to_dict()


def grade_one(student: str, path: str, seed: int, examples: int, version: str) -> tuple[str, dict, float]:
    """Grade one student; returns (student, SubmissionResult as a dict, seconds).

    ``version`` is the grader version the parent computed when the batch began:
    every row of a run records the same one.
    """
    from .._errors import UsageError, WorkerStartError
    from ..api import grade_submission

    started = time.perf_counter()
    katas = _STATE["katas"]
    for attempt in (1, 2):
        try:
            result = grade_submission(_STATE["zygote"], Path(path), katas, seed=seed, examples=examples,
                                      plugins=_STATE["plugins"])
            break
        except UsageError as exc:
            return student, _unreadable(Path(path), katas, seed, version, str(exc)), time.perf_counter() - started
        except WorkerStartError:
            if attempt == 2:
                raise
            _restart_zygote()  # the zygote itself died (not a child): one fresh start, then give up
    result.grader_version = version
    return student, result.to_dict(), time.perf_counter() - started
