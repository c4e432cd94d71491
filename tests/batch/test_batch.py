"""grade-batch: the gradebook, skipping unchanged work, surviving SIGKILL, exports."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gradkata.batch import BatchSettings, Gradebook, grade_batch
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.settings import GradingSettings

KATAS = ["clip_grad_norm"]
EXAMPLES = 3
SEED = 5
REFERENCE = (PROJECT_ROOT / "solutions" / "clip_grad_norm.py").read_text()
# Forgets the clamp: small gradients get scaled *up* to max_norm.
BUGGY = REFERENCE.replace("torch.clamp(max_norm / (total + EPS), max=1.0)", "max_norm / (total + EPS)")


def make_class(root: Path, extra: int = 0) -> Path:
    subs = root / "subs"
    subs.mkdir()
    (subs / "alice").mkdir()
    (subs / "alice" / "clip_grad_norm.py").write_text(REFERENCE)
    (subs / "bob.py").write_text(BUGGY)
    (subs / "carol.py").write_text("def clip_grad_norm(parameters, max_norm:\n    return 0\n")
    (subs / ".DS_Store").write_bytes(b"\x00junk")
    for i in range(extra):
        (subs / f"student{i:02d}.py").write_text(REFERENCE + f"\n# student {i}\n")
    return subs


@pytest.fixture(autouse=True, scope="module")
def pinned_version():
    # Other edits to the grader's files while these tests run must not look
    # like a new grader version (that would re-grade everything).
    mp = pytest.MonkeyPatch()
    mp.setenv("GRADKATA_GRADER_VERSION", "0.test")
    yield
    mp.undo()


def settings(**kw) -> BatchSettings:
    return BatchSettings(**{"seed": SEED, "examples": EXAMPLES, "katas": KATAS, "workers": 1, **kw})


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One uninterrupted batch of three students."""
    root = tmp_path_factory.mktemp("batch")
    subs = make_class(root)
    book = Gradebook(root / "gb.sqlite")
    outcome = grade_batch(subs, book, settings())
    yield subs, book, outcome
    book.close()


def test_every_student_gets_one_row(graded):
    subs, book, outcome = graded
    assert sorted(outcome.graded) == ["alice", "bob", "carol"]
    rows = {r.student: r for r in book.rows()}
    assert sorted(rows) == ["alice", "bob", "carol"]
    assert rows["alice"].score == rows["alice"].max_score > 0
    assert 0 < rows["bob"].score < rows["bob"].max_score
    assert rows["carol"].score == 0 and "syntax error" in rows["carol"].result.katas[0].reason
    for row in rows.values():
        assert row.seed == SEED and row.examples == EXAMPLES and row.katas == tuple(KATAS)
        assert len(row.content_hash) == 32 and row.grader_version == "0.test"


def test_rerun_skips_unchanged_and_regrades_edits(graded, tmp_path):
    subs, book, _ = graded
    again = grade_batch(subs, book, settings())
    assert again.graded == [] and sorted(again.skipped) == ["alice", "bob", "carol"]

    (subs / "bob.py").write_text(REFERENCE)  # bob fixes his bug
    try:
        fixed = grade_batch(subs, book, settings())
        assert fixed.graded == ["bob"]
        bob = book.row("bob")
        assert bob.score == bob.max_score
    finally:
        (subs / "bob.py").write_text(BUGGY)
        grade_batch(subs, book, settings())
    assert book.count() == 3


def test_force_regrades_everyone(graded):
    subs, book, _ = graded
    before = {r.student: r.graded_at for r in book.rows()}
    forced = grade_batch(subs, book, settings(force=True))
    assert sorted(forced.graded) == ["alice", "bob", "carol"]
    assert all(r.graded_at > before[r.student] for r in book.rows())
    assert book.count() == 3


def test_stored_settings_are_reused(graded):
    subs, book, _ = graded
    outcome = grade_batch(subs, book, BatchSettings(workers=1))  # no seed given: the batch's own
    assert outcome.seed == SEED and outcome.examples == EXAMPLES and outcome.graded == []


def test_csv_export_has_a_column_per_kata_and_the_total(graded, tmp_path):
    from gradkata.export import write_csv, write_feedback, write_json

    _, book, _ = graded
    target = tmp_path / "grades.csv"
    assert write_csv(book, target) == 3
    with open(target, newline="") as fh:
        rows = list(csv.DictReader(fh))
    tiers = [f"{k}:{t}" for k in KATAS for t in book.row("alice").result.katas[KATAS.index(k)].tiers]
    assert tiers and list(rows[0]) == ["student", *KATAS, *tiers, "total", "max_total"]
    by = {r["student"]: r for r in rows}
    assert float(by["alice"]["total"]) == float(by["alice"]["max_total"])
    assert float(by["bob"]["clip_grad_norm"]) == book.row("bob").score
    assert write_feedback(book, tmp_path / "fb") == 3
    assert "# Feedback for bob" in (tmp_path / "fb" / "bob.md").read_text()
    assert write_json(book, tmp_path / "js") == 3
    assert (tmp_path / "js" / "carol.json").read_text().count('"score"') >= 1


def _batch_cmd(subs: Path, book: Path) -> list[str]:
    return [sys.executable, "-m", "gradkata", "grade-batch", str(subs), "--gradebook", str(book), "--workers", "1",
            "--kata", KATAS[0], "--examples", str(EXAMPLES), "--seed", str(SEED), "--quiet"]


def _count(book: Path) -> int:
    try:
        with sqlite3.connect(book, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # not created yet


@pytest.mark.slow
def test_sigkill_mid_batch_then_resume_loses_and_duplicates_nothing(graded, tmp_path):
    subs = make_class(tmp_path, extra=4)
    book = tmp_path / "gb.sqlite"
    proc = subprocess.Popen(_batch_cmd(subs, book), cwd=PROJECT_ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while _count(book) < 1 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever of ours outlived the parent
        except ProcessLookupError:
            pass
    interrupted = _count(book)
    assert 1 <= interrupted < 7, "the kill should land mid-batch"

    done = subprocess.run(_batch_cmd(subs, book), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(book) as db:
        students = [r[0] for r in db.execute("SELECT student FROM results")]
    assert len(students) == len(set(students)) == 7
    with Gradebook(book) as resumed:
        scores = {r.student: r.score for r in resumed.rows()}
    _, first, _ = graded
    assert {s: scores[s] for s in ("alice", "bob", "carol")} == {r.student: r.score for r in first.rows()}
    assert all(scores[f"student{i:02d}"] == scores["alice"] for i in range(4))


def test_replay_grades_exactly_like_hypothesis(tmp_path, shared_zygote):
    from gradkata.api import grade_submission
    from gradkata.batch.replay import Replay
    from gradkata.katas import get

    (tmp_path / "good.py").write_text(REFERENCE)
    (tmp_path / "bad.py").write_text(BUGGY)
    katas = [get(s) for s in KATAS]

    def strip(result):
        # The verdicts: every check's status and score.
        return [(k.slug, k.score, k.status, [(c.name, c.status, c.score) for c in k.checks])
                for k in result.katas]

    replay = Replay()
    zygote = shared_zygote
    settings = GradingSettings(seed=9, examples=4)
    fresh = {n: strip(grade_submission(zygote, tmp_path / n, katas, settings)) for n in ("bad.py", "good.py")}
    for _ in range(2):
        for name in ("bad.py", "good.py"):
            replayed = grade_submission(zygote, tmp_path / name, katas, settings, plugins=[replay])
            assert strip(replayed) == fresh[name]
    assert replay.recorded >= 1 and replay.replayed >= 1
