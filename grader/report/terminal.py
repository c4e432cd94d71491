"""The plain-text report printed by `gradkata grade`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..tiers import TierPolicy

if TYPE_CHECKING:
    from ..katas import Kata
from ..results import CheckResult, KataResult, Status, SubmissionResult, TierScore

MAX_FAILURES_SHOWN = 3
MAX_OUTPUT_CHARS = 1500


def tier_line(k: KataResult) -> str:
    """Points per tier, e.g. "interview 17/17 · parity 5/7 · performance: advice only, 1 note". A tier
    without points (performance, by default) is advice: never shown as a score of 0/0."""
    return " · ".join(_advice(name, k) if t.max_score == 0 else f"{name} {t.score:g}/{t.max_score:g}{_weight_note(t)}"
                      for name, t in k.tiers.items())


def _advice(tier: str, k: KataResult) -> str:
    """A tier with no points: how many notes its checks left (a message, passing or not), else ✓."""
    notes = sum(1 for c in k.checks if c.tier == tier and (c.message or c.status is not Status.PASSED))
    if not k.checks:
        return f"{tier}: advice only"
    return f"{tier}: advice only, {notes} note{'s' if notes != 1 else ''}" if notes else f"{tier} ✓ (advice only)"


def _weight_note(t: TierScore) -> str:
    if t.weight == 0:
        return " (advice, not counted)"
    return "" if t.weight == 1 else f" (x{t.weight:g})"


def check_label(c: CheckResult, k: KataResult) -> str:
    """A failing check's tier, and "advice" where the tier does not count."""
    t = k.tiers.get(c.tier)
    return f"[{c.tier}{', advice' if t is not None and t.weight == 0 else ''}]"


def _kata_lines(k: KataResult) -> list[str]:
    mark = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "not attempted": "----",
            "not implemented": "TODO"}[k.status.value]
    lines = [f"  [{mark:5}] {k.slug:28} {k.score:5.1f} / {k.max_score:<5.1f} {k.status.value}"]
    if k.tiers:
        lines.append(f"          {tier_line(k)}")
    if k.reason:
        lines.append(f"          {k.reason}")
    for d in k.diagnoses:
        lines.append(f"          {d.label}: {d.title} ({d.mistake})")
        lines.extend(f"            {line}" for line in d.message.splitlines())
    if k.status is Status.NOT_IMPLEMENTED:
        return lines
    failures = [c for c in k.checks if c.status is not Status.PASSED]
    for c in failures[:MAX_FAILURES_SHOWN]:
        lines.append(f"          - {check_label(c, k)} {c.name}: {c.message}")
    if len(failures) > MAX_FAILURES_SHOWN:
        lines.append(f"          … and {len(failures) - MAX_FAILURES_SHOWN} more failing checks")
    for c in k.checks:
        if c.status is Status.PASSED and c.message:  # advice on a passing check (performance tier)
            lines.append(f"          note ({c.name}):")
            lines.extend(f"            {line}" for line in c.message.splitlines())
    if k.output.strip() and k.status is not Status.PASSED:
        text = k.output[:MAX_OUTPUT_CHARS]
        lines.append("          your code printed:")
        lines.extend(f"          | {line}" for line in text.splitlines()[:20])
    return lines


def render(result: SubmissionResult) -> str:
    lines = [f"gradkata {result.grader_version}: {result.submission} (seed {result.seed})"]
    if result.policy and not TierPolicy(result.policy).is_default():
        lines.append(f"  tiers: {TierPolicy(result.policy).describe()} (course config)")
    for k in result.katas:
        lines.extend(_kata_lines(k))
    lines.append(f"  total: {result.score:.1f} / {result.max_score:.1f} in {result.elapsed_s:.2f} s")
    if result.sandbox:
        lines.append(f"  sandbox layers: {', '.join(result.sandbox)}")
    lines.extend(f"  note: {n}" for n in result.notes)
    return "\n".join(lines)


def check_listing(kata: "Kata") -> str:
    """The kata's hidden checks grouped by tier: what `gradkata check` says before the visible examples."""
    from ..runner import checks_of
    from ..tiers import ABOUT, tier_order

    checks = checks_of([kata])[kata.slug]
    lines = [f"{kata.slug}: {len(checks)} checks"]
    for tier in sorted({c.tier for c in checks}, key=tier_order):
        mine = [c for c in checks if c.tier == tier]
        total = sum(c.points for c in mine)
        lines.append(f"  {tier} ({ABOUT.get(tier, '')}): " + (f"{total:g} points" if total else "advice only"))
        for c in mine:
            doc = f" {c.doc}" if c.doc else ""
            cost = f"{c.points:3g} pt" if c.points else "advice"
            lines.append(f"    {cost}  {c.name}{' (visible)' if c.visible else ''}{doc}")
    return "\n".join(lines)
