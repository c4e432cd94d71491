"""A class of student folders, and a submission's verdict as plain data: for tests that compare two ways of grading."""

from __future__ import annotations

from pathlib import Path

from gradkata.results import SubmissionResult


def student(root: Path, name: str, files: dict[str, str]) -> Path:
    """A student's folder under ``root``: one ``<slug>.py`` per entry of ``files``."""
    folder = root / name
    folder.mkdir()
    for slug, text in files.items():
        (folder / f"{slug}.py").write_text(text)
    return folder


def verdict(result: SubmissionResult) -> list[tuple]:
    """Everything a report shows per kata: score, status, reason, every check's message, the mistakes named."""
    return [(k.slug, k.score, k.max_score, k.status.value, k.reason,
             [(c.name, c.status.value, c.message) for c in k.checks], [d.mistake for d in k.diagnoses])
            for k in result.katas]
