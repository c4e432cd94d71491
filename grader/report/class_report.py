"""`gradkata report`: one self-contained HTML page about a class, from the gradebook.

What an instructor wants at a glance after `grade-batch`: how the scores spread
per kata, which named mistakes the class makes most (with the feedback students
get), which hidden checks fail most, and what a regrade changed for submissions
that did not change. The plots are PNGs made with matplotlib and inlined as data
URIs; there is no script, stylesheet or font from anywhere: the file can be
mailed, opened offline, or archived with the grades.
"""

from __future__ import annotations

import base64
import html
import io
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..batch.gradebook import Gradebook, Row
from ..results import Status

TOP_MISTAKES = 15
WORST_CHECKS = 25


@dataclass
class ClassData:
    """What the page shows, computed from the gradebook (no plotting, no HTML)."""

    title: str
    rows: list[Row]
    katas: list[str]
    fractions: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # (kata, tier) -> score/max
    mistakes: Counter = field(default_factory=Counter)  # mistake id -> students
    mistake_titles: dict[str, str] = field(default_factory=dict)
    mistake_messages: dict[str, str] = field(default_factory=dict)
    checks: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (kata, check) -> [passed, run]
    regrades: list[dict[str, Any]] = field(default_factory=list)


def collect(book: Gradebook, title: str = "") -> ClassData:
    rows = book.rows()
    katas = list(book.settings().get("katas") or [])
    for row in rows:
        katas += [k.slug for k in row.result.katas if k.slug not in katas]
    data = ClassData(title or f"gradkata class report: {book.path.name}", rows, katas)
    tier_points: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        for kata in row.result.katas:
            if kata.max_score:
                data.fractions.setdefault((kata.slug, "all"), []).append(kata.score / kata.max_score)
            for check in kata.checks:
                # Tiers (interview, parity, performance): from the kata's own tier scores when
                # recorded, else summed from the checks' tiers.
                if not kata.tiers:
                    points = tier_points[(row.student, kata.slug, str(getattr(check, "tier", "") or "interview"))]
                    points[0] += check.score
                    points[1] += check.max_score
                counts = data.checks.setdefault((kata.slug, check.name), [0, 0])
                counts[0] += check.status is Status.PASSED
                counts[1] += 1
            for tier, scored in kata.tiers.items():
                tier_points[(row.student, kata.slug, tier)] = [scored.score, scored.max_score]
            for mistake in {d.mistake: d for d in kata.diagnoses}.values():
                data.mistakes[mistake.mistake] += 1
                data.mistake_titles.setdefault(mistake.mistake, mistake.title)
                data.mistake_messages.setdefault(mistake.mistake, mistake.message)
    tiers_of: dict[str, set[str]] = defaultdict(set)
    for (_, slug, tier), (_, most) in tier_points.items():
        if most:
            tiers_of[slug].add(tier)
    for (_, slug, tier), (score, most) in sorted(tier_points.items()):
        # A kata graded in one tier only has its distribution already (the "all" plot).
        if most and len(tiers_of[slug]) > 1:
            data.fractions.setdefault((slug, tier), []).append(score / most)
    data.regrades = regrade_diff(book, rows)
    return data


def regrade_diff(book: Gradebook, rows: list[Row]) -> list[dict[str, Any]]:
    """Students whose submission is byte-for-byte the one graded before, but whose score changed."""
    before = book.previous()
    changed = []
    for row in rows:
        old = before.get(row.student)
        if old is None or old["content_hash"] != row.content_hash or old["score"] == row.score:
            continue
        old_by = {k.slug: k.score for k in old["result"].katas}
        katas = [f"{k.slug} {old_by.get(k.slug, 0):g}\u2192{k.score:g}" for k in row.result.katas
                 if old_by.get(k.slug) != k.score]
        changed.append({"student": row.student, "old": old["score"], "new": row.score,
                        "old_version": old["grader_version"], "new_version": row.grader_version,
                        "old_seed": old["seed"], "new_seed": row.seed, "katas": katas})
    return changed


def _feedback(mistake_id: str, fallback: str) -> str:
    # The catalogue's feedback (what students are told), from the generated index: no torch needed.
    try:
        from ..katas.index import load

        for kata in load():
            for m in kata["mistakes"]:
                if m["id"] == mistake_id:
                    return str(m["feedback"])
    except Exception:  # an index from another version: the diagnosis' own message still explains it
        pass
    return fallback


# --- plots --------------------------------------------------------------------------------------------------------

def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display, no window: a file
    import matplotlib.pyplot as plt

    return plt


def plot_distributions(data: ClassData) -> str:
    plt = _pyplot()
    keys = [k for k in sorted(data.fractions, key=lambda k: (data.katas.index(k[0]) if k[0] in data.katas
                                                             else len(data.katas), k[1] != "all", k[1]))]
    cols = 4
    nrows = max(1, -(-len(keys) // cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.3 * nrows), squeeze=False)
    bins = [i / 10 for i in range(11)]
    for ax, key in zip(axes.flat, keys):
        values = data.fractions[key]
        ax.hist([v * 100 for v in values], bins=[b * 100 for b in bins], color="#3b6ea5", edgecolor="white")
        ax.set_title(key[0] if key[1] == "all" else f"{key[0]} ({key[1]})", fontsize=9)
        ax.set_xlim(0, 100)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("% of the kata's points", fontsize=7)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    fig.suptitle("Score distribution per kata (students)", fontsize=11)
    fig.tight_layout()
    return _png(fig)


def plot_mistakes(data: ClassData) -> str:
    plt = _pyplot()
    top = data.mistakes.most_common(TOP_MISTAKES)[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.4 * max(len(top), 1) + 1))
    ax.barh([m for m, _ in top], [n for _, n in top], color="#c0504d")
    ax.set_xlabel("students")
    ax.set_title("Most frequent named mistakes", fontsize=11)
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    return _png(fig)


def _check_rates(data: ClassData) -> list[tuple[str, str, float, int]]:
    rates = [(slug, name, passed / run, run) for (slug, name), (passed, run) in data.checks.items() if run]
    return sorted(rates, key=lambda r: (r[2], r[0], r[1]))


def plot_checks(data: ClassData) -> str:
    plt = _pyplot()
    worst = _check_rates(data)[:WORST_CHECKS][::-1]
    fig, ax = plt.subplots(figsize=(9, 0.32 * max(len(worst), 1) + 1))
    ax.barh([f"{slug}::{name}" for slug, name, _, _ in worst], [rate * 100 for _, _, rate, _ in worst],
            color="#9bbb59")
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of students passing")
    ax.set_title(f"Hidden checks with the lowest pass rates (worst {len(worst)})", fontsize=11)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return _png(fig)


# --- the page -----------------------------------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9em; } td, th { border: 1px solid #ddd; padding: 4px 8px; }
th { background: #f3f3f3; text-align: left; } td.num { text-align: right; }
img { max-width: 100%; } .feedback { white-space: pre-wrap; font-size: 0.85em; color: #444; }
.note { color: #666; font-size: 0.9em; }
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _table(header: list[str], rows: list[list[str]], numeric: frozenset[int] | set[int] = frozenset()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                     for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(data: ClassData) -> str:
    rows = data.rows
    seeds = sorted({r.seed for r in rows})
    versions = sorted({r.grader_version for r in rows})
    mean = sum(r.score for r in rows) / len(rows) if rows else 0.0
    most = max((r.max_score for r in rows), default=0.0)
    parts = [f"<h1>{_e(data.title)}</h1>",
             f'<p class="note">{len(rows)} students; mean total {mean:.1f} / {most:g}; seed '
             f"{_e(', '.join(map(str, seeds)) or '-')}; grader {_e(', '.join(versions) or '-')}; "
             f"made {_e(time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))}.</p>"]
    if not rows:
        parts.append("<p>The gradebook has no graded students yet: run <code>gradkata grade-batch</code>.</p>")
        return _page(data.title, parts)

    parts += ["<h2>Scores per kata</h2>", f'<img alt="score distribution per kata" src="{plot_distributions(data)}">']
    summary = []
    for slug in data.katas:
        values = data.fractions.get((slug, "all"), [])
        if values:
            full = sum(v >= 0.999 for v in values)
            zero = sum(v <= 0.001 for v in values)
            summary.append([_e(slug), f"{100 * sum(values) / len(values):.0f}%", str(full), str(zero),
                            str(len(values))])
    parts.append(_table(["kata", "mean", "full marks", "zero", "graded"], summary, {1, 2, 3, 4}))

    parts.append("<h2>Most frequent named mistakes</h2>")
    if data.mistakes:
        parts.append(f'<img alt="most frequent mistakes" src="{plot_mistakes(data)}">')
        table = [[f"<code>{_e(m)}</code>", _e(data.mistake_titles[m]), str(n),
                  f'<div class="feedback">{_e(_feedback(m, data.mistake_messages[m]))}</div>']
                 for m, n in data.mistakes.most_common(TOP_MISTAKES)]
        parts.append(_table(["mistake", "title", "students", "feedback students get"], table, {2}))
    else:
        parts.append("<p>No catalogued mistake was recognised in any submission.</p>")

    parts.append("<h2>Hidden checks: pass rates</h2>")
    if data.checks:
        parts.append(f'<img alt="checks with the lowest pass rates" src="{plot_checks(data)}">')
        every = [[_e(slug), f"<code>{_e(name)}</code>", f"{100 * rate:.0f}%", str(run)]
                 for slug, name, rate, run in _check_rates(data)]
        parts.append("<details><summary>Every check</summary>" + _table(["kata", "check", "passing", "students"],
                                                                          every, {2, 3}) + "</details>")
    else:
        parts.append("<p>No check results in the gradebook.</p>")

    parts.append("<h2>Regrade diff</h2>")
    parts.append('<p class="note">Students whose submission did not change since it was last graded, '
                 "but whose score did (a changed grader, seed or setting).</p>")
    if data.regrades:
        table = [[_e(d["student"]), f"{d['old']:g}", f"{d['new']:g}", f"{d['new'] - d['old']:+g}",
                  _e("; ".join(d["katas"])), _e(f"{d['old_version']} (seed {d['old_seed']}) \u2192 "
                                                f"{d['new_version']} (seed {d['new_seed']})")]
                 for d in data.regrades]
        parts.append(_table(["student", "before", "after", "change", "katas", "grader"], table, {1, 2, 3}))
    else:
        parts.append("<p>No score changed on a regrade of unchanged content.</p>")
    return _page(data.title, parts)


def _page(title: str, parts: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head>\n<body>\n" + "\n".join(parts)
            + "\n</body></html>\n")


def write_report(book: Gradebook, target: Path, title: str = "") -> ClassData:
    data = collect(book, title)
    target.write_text(render_html(data), encoding="utf-8")
    return data
