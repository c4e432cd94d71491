"""The trusted worker processes of a batch: each owns one warm zygote and one suite session.

They run trusted code only (suites, references); the students' code runs in
the zygote's children, exactly as in `gradkata grade`. A worker takes
students from the task queue one at a time, grades each in its one pytest
session (collected once, :func:`gradkata.api.grade_many`), and puts each result
on the result queue as a plain dictionary as soon as it is done.
"""

from __future__ import annotations

import ctypes
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..settings import GradingSettings

_STATE: dict[str, Any] = {}
PRELOAD_KATAS_ENV = "GRADKATA_PRELOAD_KATAS"  # the batch's katas, for the fork server's preload
PR_SET_PDEATHSIG = 1


def uses_optimizer(slugs: list[str]) -> bool:
    """Whether a kata's driver builds an optimizer (the trusted side runs the drivers for the oracle)."""
    from ..katas import get
    from ..worker.harness import driver_files

    files = driver_files()
    return any("optim" in files[get(s).harness].read_text() for s in slugs if get(s).harness in files)


def _die_with_parent() -> None:
    # If the batch is killed (even with SIGKILL) its workers, and through their
    # closed control sockets the zygotes, go too: nothing is left running.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:
        os._exit(1)


def init(slugs: list[str], share: Any, replay: bool) -> None:
    """Process initialiser: open the batch's shared zygote (a :class:`gradkata.pool.Share`), for every student."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    from ..katas import get
    from ..pool import Zygote

    _STATE["katas"] = [get(s) for s in slugs]
    # The parent started the zygote when the batch began; it may still be importing torch.
    _STATE["zygote"] = Zygote(drivers=[k.harness for k in _STATE["katas"]], share=share)
    # torch (single-threaded) and the first optimizer come warm from the fork server (preload.py).
    from ..runner import max_points

    for kata in _STATE["katas"]:
        max_points(kata)  # one collection per kata, before the first student, so every student costs alike
    _STATE["zygote"].wait()
    _STATE["plugins"] = []
    if replay:
        from .replay import Replay

        # A batch's seed is fixed (stored in the gradebook): its examples are kept on disk, for the
        # other workers, a re-run with --force, the other shards and the next batch with this seed.
        _STATE["plugins"] = [Replay(disk=True)]
        from .. import prefetch

        prefetch.keep_on_disk()


def _unreadable(path: Path, katas, settings: GradingSettings, version: str, reason: str) -> dict:
    from ..results import KataResult, Status, SubmissionResult
    from ..runner import max_points

    return SubmissionResult(str(path), [KataResult(k.slug, 0.0, max_points(k), Status.ERROR, reason) for k in katas],
                            seed=settings.seed, grader_version=version).to_dict()


def grading_worker(tasks: Any, results: Any, slugs: list[str], share: Any, replay: bool,
                   settings: GradingSettings, version: str) -> None:
    """Process entry point: grade ``(student, path)`` tasks until a ``None`` arrives.

    Puts ``("result", student, SubmissionResult as a dict, seconds)`` per
    student, or ``("error", text)`` once if the worker itself breaks.
    ``version`` is the grader version the parent computed when the batch
    began: every row of a run records the same one.
    """
    try:
        init(slugs, share, replay)
        _grade_tasks(tasks, results, settings, version)
    except BaseException:  # a bug of ours: tell the parent, which stops the batch (a re-run resumes it)
        import traceback

        results.put(("error", traceback.format_exc()[-4000:]))


def _grade_tasks(tasks: Any, results: Any, settings: GradingSettings, version: str) -> None:
    from ..api import grade_many

    katas = _STATE["katas"]

    def work():
        while (task := tasks.get()) is not None:
            yield task[0], Path(task[1])

    def done(student: str, result) -> None:
        result.grader_version = version
        results.put(("result", student, result.to_dict(), result.elapsed_s))

    def unreadable(student: str, path: Path, exc: Exception) -> None:
        results.put(("result", student, _unreadable(path, katas, settings, version, str(exc)), 0.0))

    # Throughput first: a submission's katas share children where they can (the same verdicts).
    grade_many(_STATE["zygote"], work(), katas, done, settings, plugins=_STATE["plugins"], on_unreadable=unreadable,
               share_children=True)
