"""What a batch's fork server imports once, so that every worker forked from it starts warm.

Imported only in the fork server (a clean process started for the batch): it
loads torch single-threaded (a process that has started torch's thread pool
cannot fork safely), builds the first optimizer (it imports torch._dynamo,
about 2 s) and imports the grading machinery. Nothing of a student's is
here; the students' code runs in each worker's own zygote.
"""

from __future__ import annotations

import torch

torch.set_num_threads(1)
torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1)

from .. import api, runner  # noqa: E402,F401
from . import workers  # noqa: E402,F401
