"""Per-student feedback in Markdown: the score, then what to fix, kata by kata."""

from __future__ import annotations

from ..results import KataResult, Status, SubmissionResult

MAX_FAILURES = 5


def _kata(k: KataResult) -> list[str]:
    lines = [f"## {k.slug}: {k.score:g} / {k.max_score:g} ({k.status.value})", ""]
    if k.reason:
        lines += [k.reason, ""]
    for d in k.diagnoses:
        lines += [f"**{d.label}: {d.title}** (`{d.mistake}`)", "", d.message, ""]
    failures = [c for c in k.checks if c.status is not Status.PASSED]
    if k.status is Status.NOT_IMPLEMENTED:
        return lines
    for c in failures[:MAX_FAILURES]:
        lines += [f"- `{c.name}`: {c.message}".rstrip()]
    if len(failures) > MAX_FAILURES:
        lines.append(f"- … and {len(failures) - MAX_FAILURES} more failing checks")
    if failures:
        lines.append("")
    if k.output.strip() and k.status is not Status.PASSED:
        lines += ["Your code printed:", "", "```text", k.output.strip()[:1500], "```", ""]
    return lines


def feedback_markdown(student: str, result: SubmissionResult) -> str:
    lines = [f"# Feedback for {student}", "",
             f"Total: **{result.score:g} / {result.max_score:g}**", "",
             f"Graded by gradkata {result.grader_version} with seed {result.seed}.", ""]
    for k in result.katas:
        lines += _kata(k)
    return "\n".join(lines).rstrip() + "\n"
