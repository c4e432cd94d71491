"""What a batch's fork server imports once, so that every worker forked from it starts warm.

Imported only in the fork server (a clean process started for the batch): it
loads torch single-threaded (a process that has started torch's thread pool
cannot fork safely) and imports the grading machinery. When the batch names
its katas (``$GRADKATA_PRELOAD_KATAS``, set by :mod:`gradkata.batch.run` for the
fork server only) it also collects their suites here, once for every worker,
and builds the first optimizer (it imports torch._dynamo, 1-2 s) only if a
kata's driver trains with one. Nothing of a student's is here; the students'
code runs in the zygote's children.
"""

from __future__ import annotations

import os

import torch

torch.set_num_threads(1)

from .. import api, runner  # noqa: E402,F401
from . import workers  # noqa: E402,F401


def _warm(slugs: list[str]) -> None:
    if not slugs or workers.uses_optimizer(slugs):
        torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1)
    if slugs:
        from ..hypothesis_pin import pin_generation
        from ..katas import get

        pin_generation()
        runner.points_of([get(s) for s in slugs])  # the suites imported and collected, for every worker


try:
    _warm([s for s in os.environ.get(workers.PRELOAD_KATAS_ENV, "").split(",") if s])
except Exception:  # noqa: BLE001  a head start only: each worker does what is missing itself
    pass
