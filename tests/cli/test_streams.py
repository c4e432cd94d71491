"""stdout carries the report and nothing else: the references and mutants that run in the
grading process (the training katas log "Epoch 1: train loss ...") never reach it, and
`--json -` makes stdout pure JSON. Run as a subprocess, as a shell or a tool would."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gradkata.katas._kata import PROJECT_ROOT

# Katas whose references print while they train or monitor: the ones that used to leak.
NOISY = ["train_step_with_clipping", "gradient_monitor", "train_rnn_with_clipping"]
LOG_WORDS = ("Epoch", "Gradient norms over", "NaN/Inf loss", "largest pre-clip norm")


def _start(*extra: str) -> subprocess.Popen[str]:
    kata_args = [arg for slug in NOISY for arg in ("--kata", slug)]
    return subprocess.Popen([sys.executable, "-m", "gradkata", "grade", str(PROJECT_ROOT / "exercises"), *kata_args,
                             "--seed", "1", "--examples", "5", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)


@pytest.fixture(scope="module")
def graded() -> dict[str, subprocess.CompletedProcess[str]]:
    """Both command lines, run at once (two processes, each its own grader): the human report, and --json -."""
    procs = {"report": _start(), "json": _start("--json", "-")}
    done = {}
    try:
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=300)
            done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return done


def _no_training_logs(text: str) -> None:
    leaked = [line for line in text.splitlines() if any(word in line for word in LOG_WORDS)]
    assert not leaked, f"trusted code printed into the user's streams: {leaked[:3]}"


@pytest.mark.slow
def test_stdout_is_the_report_only(graded):
    proc = graded["report"]
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    # The report: a header, then only its own indented lines (a kata line per kata, their
    # details, the total and the sandbox line); a training log starts at the margin.
    assert lines[0].startswith("gradkata ") and "seed 1" in lines[0]
    assert all(line.startswith("  ") for line in lines[1:]), proc.stdout
    assert [slug for slug in NOISY if any(f"] {slug} " in line for line in lines)] == NOISY
    assert lines[-2].lstrip().startswith("total:") and "sandbox" in lines[-1]
    _no_training_logs(proc.stdout)
    _no_training_logs(proc.stderr)


@pytest.mark.slow
def test_json_dash_writes_pure_json_to_stdout(graded):
    proc = graded["json"]
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)  # the whole of stdout parses: nothing else is there
    assert {t["tags"][0] for t in report["tests"]} == set(NOISY)
    assert report["score"] == 0
    # The human report moved to stderr, still without training logs.
    assert proc.stderr.startswith("gradkata ") and "total:" in proc.stderr
    _no_training_logs(proc.stderr)
