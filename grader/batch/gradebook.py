"""The gradebook: one SQLite row per student, written in its own transaction.

WAL mode and ``INSERT OR REPLACE`` keyed by student make the file safe to kill
at any moment: a row is either committed whole or not at all, and re-grading a
student replaces their row instead of adding one. The batch settings (seed,
examples, katas) live in the same file, so a re-run after a crash grades the
remaining students exactly as the first run graded the others.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..results import SubmissionResult

DEFAULT_PATH = Path("gradebook.sqlite")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    student        TEXT PRIMARY KEY,
    path           TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    seed           INTEGER NOT NULL,
    examples       INTEGER NOT NULL,
    katas          TEXT NOT NULL,
    score          REAL NOT NULL,
    max_score      REAL NOT NULL,
    result         TEXT NOT NULL,
    graded_at      REAL NOT NULL
);
-- Each row a re-grade replaced: what `gradkata report` diffs (same content, new score?).
CREATE TABLE IF NOT EXISTS history (
    student        TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    seed           INTEGER NOT NULL,
    score          REAL NOT NULL,
    max_score      REAL NOT NULL,
    result         TEXT NOT NULL,
    graded_at      REAL NOT NULL,
    replaced_at    REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Row:
    student: str
    path: str
    content_hash: str
    grader_version: str
    seed: int
    examples: int
    katas: tuple[str, ...]
    score: float
    max_score: float
    result: SubmissionResult
    graded_at: float

    def key(self) -> tuple:
        """What must match for a stored result to stand for a fresh grading."""
        return (self.content_hash, self.grader_version, self.seed, self.examples, self.katas)


class Gradebook:
    def __init__(self, path: Path | str = DEFAULT_PATH) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed row survives even a power cut, not only a killed process.
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    # --- batch settings ------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}

    def save_settings(self, values: dict[str, Any]) -> None:
        with self._transaction():
            self.db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                [(k, json.dumps(v)) for k, v in values.items()])

    # --- results -------------------------------------------------------------
    def record(self, student: str, content_hash: str, result: SubmissionResult, *, examples: int,
               katas: list[str]) -> None:
        """Store one student's result in its own transaction (replacing any older one)."""
        with self._transaction():
            self.db.execute(
                "INSERT INTO history SELECT student, content_hash, grader_version, seed, score, max_score, result,"
                " graded_at, ? FROM results WHERE student = ?", (time.time(), student))
            self.db.execute(
                "INSERT OR REPLACE INTO results (student, path, content_hash, grader_version, seed, examples,"
                " katas, score, max_score, result, graded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (student, result.submission, content_hash, result.grader_version, result.seed, examples,
                 json.dumps(list(katas)), result.score, result.max_score, json.dumps(result.to_dict()),
                 time.time()),
            )

    def store(self, rows: list[Row]) -> None:
        """Store rows as they are (a merge): their times and versions kept, one transaction."""
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO results (student, path, content_hash, grader_version, seed, examples,"
                " katas, score, max_score, result, graded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.student, r.path, r.content_hash, r.grader_version, r.seed, r.examples, json.dumps(list(r.katas)),
                  r.score, r.max_score, json.dumps(r.result.to_dict()), r.graded_at) for r in rows])

    def rows(self) -> list[Row]:
        return list(self._rows("SELECT * FROM results ORDER BY student"))

    def previous(self) -> dict[str, dict[str, Any]]:
        """Each student's last replaced row (content hash, grader version, seed, score, result, graded_at)."""
        latest: dict[str, dict[str, Any]] = {}
        cur = self.db.execute("SELECT student, content_hash, grader_version, seed, score, max_score, result,"
                              " graded_at FROM history ORDER BY replaced_at")
        for student, digest, version, seed, score, max_score, result, at in cur:
            latest[student] = {"content_hash": digest, "grader_version": version, "seed": seed, "score": score,
                               "max_score": max_score, "result": SubmissionResult.from_dict(json.loads(result)),
                               "graded_at": at}
        return latest

    def row(self, student: str) -> Row | None:
        return next(self._rows("SELECT * FROM results WHERE student = ?", (student,)), None)

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM results").fetchone()[0]

    def _rows(self, sql: str, params: tuple = ()) -> Iterator[Row]:
        cur = self.db.execute(sql, params)
        names = [d[0] for d in cur.description]
        for values in cur:
            d = dict(zip(names, values))
            yield Row(student=d["student"], path=d["path"], content_hash=d["content_hash"],
                      grader_version=d["grader_version"], seed=d["seed"], examples=d["examples"],
                      katas=tuple(json.loads(d["katas"])), score=d["score"], max_score=d["max_score"],
                      result=SubmissionResult.from_dict(json.loads(d["result"])), graded_at=d["graded_at"])

    def _transaction(self):
        return _Transaction(self.db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error (autocommit connection)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
