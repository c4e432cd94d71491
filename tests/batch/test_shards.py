"""grade-batch --shard I/N and gradkata merge: N machines grade what one would, merged back into one gradebook."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradkata._errors import UsageError
from gradkata.batch import Gradebook
from gradkata.batch.merge import merge
from gradkata.batch.shard import parse, shard_of
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.results import SubmissionResult

REFERENCE = (PROJECT_ROOT / "solutions" / "clip_grad_norm.py").read_text()
BUGGY = REFERENCE.replace("torch.clamp(max_norm / (total + EPS), max=1.0)", "max_norm / (total + EPS)")
STUDENTS = {
    "ada": REFERENCE, "bo": BUGGY, "cy": "def clip_grad_norm(parameters, max_norm:\n    return 0\n",
    "di": REFERENCE + "\n# mine\n", "ed": "import torch\n", "flo": BUGGY + "\n# also mine\n",
}


def test_shards_are_disjoint_cover_the_class_and_do_not_depend_on_order() -> None:
    names = [f"student{i:03d}" for i in range(300)]
    shards = {name: shard_of(name, 3) for name in names}
    assert set(shards.values()) == {1, 2, 3}
    assert all(60 < list(shards.values()).count(i) < 140 for i in (1, 2, 3))  # roughly a third each
    assert {name: shard_of(name, 3) for name in reversed(names)} == shards
    # A stable hash, not Python's salted hash(): a fixed value every run, on every machine.
    assert shard_of("alice", 4) == 2 and shard_of("bob", 4) == 3


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0"])
def test_bad_shard_specs_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse(text)


def _book(path: Path, rows: dict[str, float], *, seed: int = 1, version: str = "v1") -> Path:
    from gradkata.results import KataResult

    with Gradebook(path) as book:
        book.save_settings({"seed": seed, "examples": 3, "katas": ["k"], "call_s": None})
        for student, score in rows.items():
            kata = KataResult.from_dict({"slug": "k", "score": score, "max_score": 10.0, "status": "passed"})
            book.record(student, "h-" + student, SubmissionResult(student, [kata], seed, version),
                        examples=3, katas=["k"])
    return path


def test_merge_keeps_the_newest_row_per_student(tmp_path: Path) -> None:
    old = _book(tmp_path / "a.sqlite", {"ann": 1.0, "ben": 2.0})
    new = _book(tmp_path / "b.sqlite", {"ann": 9.0, "cat": 3.0})  # recorded later: ann re-graded
    outcome = merge(tmp_path / "out.sqlite", [new, old])  # the order of the inputs does not matter
    with Gradebook(tmp_path / "out.sqlite") as book:
        assert {r.student: r.score for r in book.rows()} == {"ann": 9.0, "ben": 2.0, "cat": 3.0}
        assert book.settings()["seed"] == 1
    assert outcome.replaced == ["ann"]


@pytest.mark.parametrize("odd", [{"seed": 2}, {"version": "v2"}])
def test_merge_refuses_mixed_seeds_or_grader_versions(tmp_path: Path, odd: dict) -> None:
    a = _book(tmp_path / "a.sqlite", {"ann": 1.0})
    b = _book(tmp_path / "b.sqlite", {"ben": 2.0}, **odd)
    with pytest.raises(UsageError, match="refusing to merge"):
        merge(tmp_path / "out.sqlite", [a, b])
    with Gradebook(tmp_path / "out.sqlite") as book:
        assert book.count() == 0  # nothing written


def test_shard_without_a_seed_is_refused(tmp_path: Path) -> None:
    from gradkata.cli import main

    (tmp_path / "subs").mkdir()
    assert main(["grade-batch", str(tmp_path / "subs"), "--shard", "1/2", "--gradebook",
                 str(tmp_path / "gb.sqlite")]) == 2


def _batch(subs: Path, book: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "GRADKATA_GRADER_VERSION": "0.test"}
    return subprocess.Popen([sys.executable, "-m", "gradkata", "grade-batch", str(subs), "--gradebook", str(book),
                             "--kata", "clip_grad_norm", "--seed", "5", "--examples", "3", "--workers", "1",
                             # Four batches at once on a busy machine: no call should time out for load alone.
                             "--timeout", "120", "--quiet", *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _comparable(row) -> tuple:
    # Everything that is the grade; not the time it took or when.
    result = row.result.to_dict()
    for kata in result["katas"]:
        kata.pop("elapsed_s", None)
    result.pop("elapsed_s")
    return (row.student, row.content_hash, row.grader_version, row.seed, row.score, row.max_score, result)


@pytest.mark.slow
def test_three_shards_merged_equal_one_unsharded_run(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, code in STUDENTS.items():
        (subs / f"{name}.py").write_text(code)
    assert len({shard_of(name, 3) for name in STUDENTS}) == 3, "every shard should get someone"
    # Three shards as three processes (three machines), and one unsharded run, all at once.
    runs = [_batch(subs, tmp_path / f"shard{i}.sqlite", "--shard", f"{i}/3") for i in (1, 2, 3)]
    runs.append(_batch(subs, tmp_path / "whole.sqlite"))
    for run in runs:
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
    for i in (1, 2, 3):
        with Gradebook(tmp_path / f"shard{i}.sqlite") as book:
            assert {r.student for r in book.rows()} == {n for n in STUDENTS if shard_of(n, 3) == i}
    done = subprocess.run([sys.executable, "-m", "gradkata", "merge", str(tmp_path / "merged.sqlite"),
                           *(str(tmp_path / f"shard{i}.sqlite") for i in (1, 2, 3))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "6 students" in done.stderr
    with Gradebook(tmp_path / "merged.sqlite") as merged, Gradebook(tmp_path / "whole.sqlite") as whole:
        reasons = {r.student: [(k.status.value, k.reason) for k in r.result.katas] for r in whole.rows()}
        assert [_comparable(r) for r in merged.rows()] == [_comparable(r) for r in whole.rows()], reasons
        assert len(whole.rows()) == len(STUDENTS)
        assert len({r.score for r in whole.rows()}) > 1  # not a class of identical grades
        for m, w in zip(merged.rows(), whole.rows()):
            print(f"{m.student:5} shard {shard_of(m.student, 3)}  merged {m.score:5.1f}/{m.max_score:g}  "
                  f"unsharded {w.score:5.1f}/{w.max_score:g}")
    # The class report renders a real merged gradebook (diagnoses, checks, tiers as graded).
    assert subprocess.run([sys.executable, "-m", "gradkata", "report", "--gradebook", str(tmp_path / "merged.sqlite"),
                           "-o", str(tmp_path / "report.html")], timeout=120).returncode == 0
    assert (tmp_path / "report.html").read_text().count("data:image/png;base64,") == 3


def _parses(command: str) -> None:
    import shlex

    from gradkata.cli import build_parser

    argv = shlex.split(command.replace("\\\n", " "))
    assert argv[0] == "gradkata"
    args = build_parser().parse_args(argv[1:])
    assert parse(args.shard) == (3, 8)


def test_the_cluster_recipes_run_valid_shard_commands() -> None:
    """docs/slurm_array.sh and docs/k8s_indexed_job.yaml: the grade-batch line they run is one the CLI accepts."""
    import re

    slurm = (PROJECT_ROOT / "docs" / "slurm_array.sh").read_text()
    assert subprocess.run(["bash", "-n", str(PROJECT_ROOT / "docs" / "slurm_array.sh")]).returncode == 0
    line = re.search(r"^gradkata grade-batch .*?--quiet$", slurm, re.S | re.M)
    assert line, "the Slurm script runs no grade-batch"
    _parses(line.group(0).replace('"$I/$N"', "3/8").replace("${SLURM_CPUS_PER_TASK:-1}", "4")
            .replace('"$SUBMISSIONS"', "subs").replace('"$SEED"', "7").replace("$I", "3"))

    yaml = pytest.importorskip("yaml")
    job = yaml.safe_load((PROJECT_ROOT / "docs" / "k8s_indexed_job.yaml").read_text())
    assert job["kind"] == "Job" and job["spec"]["completionMode"] == "Indexed"
    [container] = job["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["SHARDS"] == str(job["spec"]["completions"])
    command = container["args"][0].split("&&")[-1].strip()
    _parses(command.replace("$((JOB_COMPLETION_INDEX + 1))/$SHARDS", "3/8").replace("$SEED", "7")
            .replace("$((JOB_COMPLETION_INDEX + 1))", "3"))
