"""Tiers: which part of a kata's contract a check grades, and how much each part counts.

Every hidden test belongs to one tier, set with ``@pytest.mark.tier("parity")``
(no marker: interview):

- ``interview``: the question as the seed documents pose it (their signatures
  and inputs). A kata is PASS when this tier is full.
- ``parity``: PyTorch's and real training's full contract (lone tensors,
  duplicates, half precision, 0-d and >=3-d gradients, non-finite values, ...).
- ``performance``: advice (host syncs, copies of all gradients); no points by default.

A :class:`TierPolicy` says how much each tier counts. The default counts
interview and parity at weight 1 and shows performance at weight 0; a course
overrides it with a ``[tiers]`` table in a TOML file given by ``--config`` or
the ``GRADKATA_CONFIG`` environment variable::

    [tiers]
    interview = 1.0     # weight of a point earned in this tier
    parity = 0.5
    performance = 0     # shown, not counted
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ._errors import UsageError

if TYPE_CHECKING:
    from .results import KataResult, SubmissionResult

INTERVIEW, PARITY, PERFORMANCE = "interview", "parity", "performance"
TIERS = (INTERVIEW, PARITY, PERFORMANCE)
DEFAULT_TIER = INTERVIEW
DEFAULT_WEIGHTS = {INTERVIEW: 1.0, PARITY: 1.0, PERFORMANCE: 0.0}
CONFIG_ENV = "GRADKATA_CONFIG"

ABOUT = {
    INTERVIEW: "the question as the seeds pose it",
    PARITY: "PyTorch's full contract",
    PERFORMANCE: "advice, no points by default",
}


def tier_of(item: Any) -> str:
    """The tier of a collected pytest item (its ``tier`` marker, else interview)."""
    marker = item.get_closest_marker("tier")
    name = marker.args[0] if marker is not None and marker.args else DEFAULT_TIER
    if name not in TIERS:
        # The suite's own mistake, caught at collection: never a student's zero.
        raise ValueError(f"grader bug: {item.nodeid} has tier {name!r}; use one of {', '.join(TIERS)}")
    return str(name)


def tier_order(name: str) -> int:
    return TIERS.index(name) if name in TIERS else len(TIERS)


@dataclass(frozen=True)
class TierPolicy:
    """The weight of a point in each tier; weight 0 shows a tier without counting it."""

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))

    def __hash__(self) -> int:
        # The weights are a mapping (unhashable); equal policies have equal weights, hence equal hashes.
        return hash(tuple(sorted((str(t), float(w)) for t, w in self.weights.items())))

    def weight(self, tier: str) -> float:
        return float(self.weights.get(tier, 0.0))

    def counted(self, tier: str) -> bool:
        return self.weight(tier) > 0

    def is_default(self) -> bool:
        return all(self.weight(t) == w for t, w in DEFAULT_WEIGHTS.items())

    def to_dict(self) -> dict[str, float]:
        return {t: self.weight(t) for t in TIERS}

    def describe(self) -> str:
        return ", ".join(f"{t} x{self.weight(t):g}" if self.counted(t) else f"{t} not counted" for t in TIERS)

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str = "the [tiers] table") -> "TierPolicy":
        weights = dict(DEFAULT_WEIGHTS)
        for name, value in table.items():
            if name == "count":
                # count = ["interview"]: only these tiers count (weight 1), the others are shown.
                if not isinstance(value, list) or not all(v in TIERS for v in value):
                    raise UsageError(f"{where}: count must be a list of tiers among {', '.join(TIERS)}")
                weights = {t: (1.0 if t in value else 0.0) for t in TIERS}
                continue
            if name not in TIERS:
                raise UsageError(f"{where}: unknown tier {name!r}; the tiers are {', '.join(TIERS)}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value < 0:
                raise UsageError(f"{where}: {name} = {value!r}; give a weight >= 0 (0: shown, not counted)")
            weights[name] = float(value)
        return cls(weights)

    @classmethod
    def load(cls, path: Path | str) -> "TierPolicy":
        import tomllib  # here: most runs read no config, and every command imports this module

        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(f"cannot read the course config {path}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"the course config {path} is not valid TOML: {exc}") from None
        table = data.get("tiers", {})
        if not isinstance(table, dict):
            raise UsageError(f"{path}: [tiers] must be a table, e.g. [tiers]\\nparity = 0.5")
        return cls.from_mapping(table, f"{path} [tiers]")

    @classmethod
    def resolve(cls, config: str | Path | None = None) -> "TierPolicy":
        """``--config`` if given, else ``$GRADKATA_CONFIG``, else the default."""
        source = config or os.environ.get(CONFIG_ENV)
        return cls.load(source) if source else cls()


DEFAULT_POLICY = TierPolicy()


def apply(policy: TierPolicy, result: "KataResult", tier_max: Mapping[str, float] | None = None) -> "KataResult":
    """Score ``result`` under ``policy``: per-tier points, the weighted total, PASS when interview is full.

    ``tier_max``: the kata's points per tier, for a result without checks (not
    attempted, import error); it then earns nothing of them.
    """
    from .results import Status, TierScore

    tiers: dict[str, TierScore] = {}
    if result.checks:
        for check in result.checks:
            t = tiers.setdefault(check.tier, TierScore(0.0, 0.0, policy.weight(check.tier)))
            t.score += check.score
            t.max_score += check.max_score
    else:
        for name, pts in (tier_max or {}).items():
            tiers[name] = TierScore(0.0, pts, policy.weight(name))
    result.tiers = dict(sorted(tiers.items(), key=lambda kv: tier_order(kv[0])))
    result.score = sum(t.score * t.weight for t in tiers.values())
    result.max_score = sum(t.max_score * t.weight for t in tiers.values())
    if result.status in (Status.PASSED, Status.FAILED) and result.checks:
        result.status = Status.PASSED if passes(result) else Status.FAILED
    return result


def passes(result: "KataResult") -> bool:
    """PASS: the interview tier is full (a kata without interview checks: every counted tier is)."""
    interview = result.tiers.get(INTERVIEW)
    if interview is not None and interview.max_score > 0:
        return interview.score >= interview.max_score
    return all(t.score >= t.max_score for t in result.tiers.values() if t.weight > 0)


def apply_all(policy: TierPolicy, result: "SubmissionResult") -> "SubmissionResult":
    # From the generated index, not the suites: a client of a resident grader rescores without pytest.
    from .katas.index import entry

    for kata in result.katas:
        if kata.checks:
            apply(policy, kata)
        else:  # the points it could have earned: already known, or from the suite's collection
            known = {name: t.max_score for name, t in kata.tiers.items()}
            apply(policy, kata, known or dict(entry(kata.slug).get("tier_points", {})))
    result.policy = policy.to_dict()
    return result
