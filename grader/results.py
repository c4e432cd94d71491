"""What grading produces: small dataclasses, serialisable to plain JSON."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class Status(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # the submission broke the kata (timeout, crash, import error, delegation)
    NOT_ATTEMPTED = "not attempted"
    NOT_IMPLEMENTED = "not implemented"


@dataclass
class CheckResult:
    """One hidden test."""

    kata: str
    name: str
    score: float
    max_score: float
    status: Status
    message: str = ""
    visible: bool = False
    tier: str = "interview"  # gradkata.tiers: interview, parity or performance

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}


@dataclass
class TierScore:
    """A kata's points in one tier: earned, possible, and the weight the course policy gives them."""

    score: float
    max_score: float
    weight: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Diagnosis:
    """A named mistake the grader recognised in a submission."""

    kata: str
    mistake: str
    title: str
    message: str
    evidence: str = ""
    advice: bool = False  # advice costs no points (a host sync, a built-in named but never called)

    @property
    def label(self) -> str:
        """How reports introduce it: a mistake, or an advice that takes nothing off."""
        return "Advice" if self.advice else "Mistake"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class KataResult:
    slug: str
    score: float
    max_score: float
    status: Status
    reason: str = ""
    checks: list[CheckResult] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    output: str = ""
    elapsed_s: float = 0.0
    # Per tier, in tier order (gradkata.tiers.apply fills it); score/max_score are the weighted totals.
    tiers: dict[str, TierScore] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug, "score": self.score, "max_score": self.max_score, "status": self.status.value,
            "tiers": {name: t.to_dict() for name, t in self.tiers.items()},
            "reason": self.reason, "checks": [c.to_dict() for c in self.checks],
            "diagnoses": [d.to_dict() for d in self.diagnoses], "output": self.output, "elapsed_s": self.elapsed_s,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "KataResult":
        return cls(
            slug=d["slug"], score=d["score"], max_score=d["max_score"], status=Status(d["status"]),
            reason=d.get("reason", ""),
            checks=[CheckResult(**{**c, "status": Status(c["status"])}) for c in d.get("checks", [])],
            diagnoses=[Diagnosis(**x) for x in d.get("diagnoses", [])],
            output=d.get("output", ""), elapsed_s=d.get("elapsed_s", 0.0),
            tiers={name: TierScore(**t) for name, t in d.get("tiers", {}).items()},
        )


@dataclass
class SubmissionResult:
    submission: str
    katas: list[KataResult]
    seed: int
    grader_version: str
    elapsed_s: float = 0.0
    sandbox: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    policy: dict[str, float] = field(default_factory=dict)  # tier -> weight the scores were computed with

    @property
    def score(self) -> float:
        return sum(k.score for k in self.katas)

    @property
    def max_score(self) -> float:
        return sum(k.max_score for k in self.katas)

    @property
    def diagnoses(self) -> list[Diagnosis]:
        return [d for k in self.katas for d in k.diagnoses]

    def to_dict(self) -> dict[str, Any]:
        return {
            "submission": self.submission, "score": self.score, "max_score": self.max_score, "seed": self.seed,
            "grader_version": self.grader_version, "elapsed_s": self.elapsed_s, "sandbox": self.sandbox,
            "notes": self.notes, "policy": self.policy, "katas": [k.to_dict() for k in self.katas],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SubmissionResult":
        return cls(
            submission=d["submission"], katas=[KataResult.from_dict(k) for k in d["katas"]], seed=d["seed"],
            grader_version=d["grader_version"], elapsed_s=d.get("elapsed_s", 0.0), sandbox=d.get("sandbox", []),
            notes=d.get("notes", []), policy=d.get("policy", {}),
        )
