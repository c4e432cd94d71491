"""`gradkata merge OUT IN...`: combine the gradebooks of several shards (or machines) into one.

Rows graded by different grader versions, seeds, example counts or kata sets
are not comparable (the same code can score differently), so a merge that would
mix them is refused with the values found. Where a student has a row in several
inputs, the newest (``graded_at``) wins: a re-run of one shard replaces its rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .._errors import UsageError
from .gradebook import Gradebook, Row

# Row fields that must agree across everything merged, and how to name them in an error.
MUST_AGREE = {"grader_version": "grader versions", "seed": "seeds", "examples": "example counts",
              "katas": "kata sets"}


@dataclass
class Merged:
    rows: int = 0
    replaced: list[str] = field(default_factory=list)  # students found in more than one input


def _check_uniform(rows: list[Row], sources: dict[int, Path]) -> None:
    for attr, label in MUST_AGREE.items():
        seen: dict[object, Path] = {}
        for row in rows:
            seen.setdefault(getattr(row, attr), sources[id(row)])
        if len(seen) > 1:
            found = "; ".join(f"{value!r} in {path}" for value, path in seen.items())
            raise UsageError(f"refusing to merge gradebooks with mixed {label} ({found}): their scores are not "
                             "comparable; re-grade the odd ones out with the same grader and settings")


def merge(output: Path, inputs: list[Path]) -> Merged:
    if not inputs:
        raise UsageError("merge wants at least one input gradebook")
    for path in inputs:
        if not path.is_file():
            raise UsageError(f"{path} does not exist (give the gradebooks the shards wrote)")
        if path.resolve() == output.resolve():
            raise UsageError(f"{path} is the output too: merge into a new file")
    rows: list[Row] = []
    sources: dict[int, Path] = {}
    settings: dict = {}
    with Gradebook(output) as out:
        rows.extend(out.rows())  # merging into an existing gradebook keeps what it has
        for row in rows:
            sources[id(row)] = output
        settings.update(out.settings())
        for path in inputs:
            with Gradebook(path) as book:
                for row in book.rows():
                    rows.append(row)
                    sources[id(row)] = path
                settings.update({k: v for k, v in book.settings().items() if k != "shard"})
        _check_uniform(rows, sources)
        newest: dict[str, Row] = {}
        outcome = Merged()
        for row in rows:
            held = newest.get(row.student)
            if held is not None:
                outcome.replaced.append(row.student)
            if held is None or row.graded_at > held.graded_at:
                newest[row.student] = row
        settings.pop("shard", None)
        out.save_settings(settings)
        out.store(list(newest.values()))
        outcome.rows = out.count()
    return outcome
