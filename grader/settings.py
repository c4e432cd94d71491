"""What a grading run is asked for, as one value: :class:`GradingSettings`.

Every front-end (`gradkata grade` and `check`, the resident server, a batch's
workers, the notebook checker, the Gradescope autograder, :func:`gradkata.grade`)
builds one, once, and hands it to the engine (:func:`gradkata.api.grade_many`,
:func:`gradkata.runner.grade_each`), which passes it down unchanged. The
run-time extras that are not settings (pytest plugins such as the example
replay, a zygote, a callback) travel as arguments of their own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Mapping

from .tiers import DEFAULT_POLICY, TierPolicy

DEFAULT_EXAMPLES = 30  # hypothesis examples per property test of a single `gradkata grade`


def new_seed() -> int:
    """A fresh hypothesis seed (the report shows it, so a run can be repeated)."""
    return random.SystemRandom().randrange(1, 2**31)


@dataclass(frozen=True)
class GradingSettings:
    """How to grade: the same settings and the same code give the same report.

    ``seed``: the hypothesis seed every property test draws from; ``examples``:
    examples per property test; ``visible_only``: run only the worked examples
    (``gradkata check``), not the hidden suite; ``policy``: how much each tier
    counts (:mod:`gradkata.tiers`).
    """

    seed: int
    examples: int = DEFAULT_EXAMPLES
    visible_only: bool = False
    policy: TierPolicy = DEFAULT_POLICY

    @classmethod
    def create(cls, seed: int | None = None, examples: int | None = None, *, visible_only: bool = False,
               policy: TierPolicy | None = None) -> "GradingSettings":
        """Settings with the defaults filled in: a fresh seed, :data:`DEFAULT_EXAMPLES`, the default policy."""
        return cls(int(seed) if seed is not None else new_seed(),
                   int(examples) if examples is not None else DEFAULT_EXAMPLES, bool(visible_only),
                   policy if policy is not None else DEFAULT_POLICY)

    @classmethod
    def from_request(cls, request: Mapping[str, Any], seed: int) -> "GradingSettings":
        """The settings a grading request names (the resident server's and the notebook checker's
        protocol: ``seed``, ``examples``, ``visible_only``), ``seed`` where it names none."""
        return cls(int(request.get("seed") or seed), int(request.get("examples") or DEFAULT_EXAMPLES),
                   bool(request.get("visible_only")))

    def request(self) -> dict[str, Any]:
        """The fields of a grading request that carry these settings (the policy is applied by the caller)."""
        return {"seed": self.seed, "examples": self.examples, "visible_only": self.visible_only}
