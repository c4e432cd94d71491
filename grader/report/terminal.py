"""The plain-text report printed by `gradkata grade`."""

from __future__ import annotations

from ..results import KataResult, Status, SubmissionResult

MAX_FAILURES_SHOWN = 3
MAX_OUTPUT_CHARS = 1500


def _kata_lines(k: KataResult) -> list[str]:
    mark = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "not attempted": "----",
            "not implemented": "TODO"}[k.status.value]
    lines = [f"  [{mark:5}] {k.slug:28} {k.score:5.1f} / {k.max_score:<5.1f} {k.status.value}"]
    if k.reason:
        lines.append(f"          {k.reason}")
    for d in k.diagnoses:
        lines.append(f"          Mistake: {d.title} ({d.mistake})")
        lines.extend(f"            {line}" for line in d.message.splitlines())
    if k.status is Status.NOT_IMPLEMENTED:
        return lines
    failures = [c for c in k.checks if c.status is not Status.PASSED]
    for c in failures[:MAX_FAILURES_SHOWN]:
        lines.append(f"          - {c.name}: {c.message}")
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
    for k in result.katas:
        lines.extend(_kata_lines(k))
    lines.append(f"  total: {result.score:.1f} / {result.max_score:.1f} in {result.elapsed_s:.2f} s")
    if result.sandbox:
        lines.append(f"  sandbox layers: {', '.join(result.sandbox)}")
    lines.extend(f"  note: {n}" for n in result.notes)
    return "\n".join(lines)
