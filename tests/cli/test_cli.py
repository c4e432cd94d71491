"""`gradkata` on the command line: exit codes, not-attempted katas, list, check, python -m gradkata."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gradkata.cli import main
from gradkata.katas import SLUGS
from gradkata.katas._kata import PROJECT_ROOT


def _report(path) -> dict:
    tests = json.loads(path.read_text())["tests"]
    return {t["tags"][0]: t for t in tests}


def test_missing_function_is_not_attempted(tmp_path, capsys):
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "clip_grad_norm.py").write_text("def some_helper():\n    return 1\n")
    out = tmp_path / "results.json"
    assert main(["grade", str(folder), "--kata", "clip_grad_norm", "--seed", "1", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "not attempted" in text and "clip_grad_norm is not defined" in text
    [test] = _report(out).values()
    assert test["score"] == 0 and test["max_score"] > 0 and test["status"] == "failed"


def test_empty_folder_lists_every_kata_as_not_attempted(tmp_path, capsys):
    folder = tmp_path / "empty"
    folder.mkdir()
    out = tmp_path / "results.json"
    assert main(["grade", str(folder), "--seed", "1", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    for slug in SLUGS:
        line = next(line for line in text.splitlines() if f"] {slug} " in line)
        assert "not attempted" in line
    report = _report(out)
    assert set(report) == set(SLUGS)
    assert all(t["score"] == 0 and t["max_score"] > 0 for t in report.values())
    assert json.loads(out.read_text())["score"] == 0


def test_nonexistent_path_exits_2_with_one_line(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nowhere")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and "does not exist" in captured.err


def test_unknown_kata_exits_2(capsys):
    assert main(["grade", str(PROJECT_ROOT / "solutions"), "--kata", "no_such_kata"]) == 2
    assert "gradkata list" in capsys.readouterr().err


def test_list_shows_every_kata_with_points_and_state(capsys):
    assert main(["list", str(PROJECT_ROOT / "exercises")]) == 0
    lines = capsys.readouterr().out.splitlines()
    for slug in SLUGS:
        line = next(line for line in lines if line.startswith(slug + " "))
        assert "pts" in line and "stub" in line


@pytest.mark.slow
def test_check_runs_the_visible_examples(capsys):
    assert main(["check", "clip_grad_norm", str(PROJECT_ROOT / "solutions")]) == 0
    text = capsys.readouterr().out
    assert "clip_grad_norm" in text and "passed" in text and "visible examples only" in text


@pytest.mark.slow
def test_check_on_the_stub_says_not_implemented(capsys):
    assert main(["check", "clip_by_value", str(PROJECT_ROOT / "exercises")]) == 0
    assert "not implemented" in capsys.readouterr().out


def test_python_dash_m_grader_works():
    proc = subprocess.run([sys.executable, "-m", "gradkata", "list"], capture_output=True, text=True, timeout=120,
                          cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr
    assert all(slug in proc.stdout for slug in SLUGS)


@pytest.mark.slow
def test_the_seed_decides_the_draws_even_on_ci(tmp_path):
    """With CI=true Hypothesis makes its derandomized "ci" profile the default;
    grading must still draw from the seed, or CI and laptops disagree."""
    import json
    import os
    import subprocess
    import sys

    (tmp_path / "clip_grad_value.py").write_text(
        "def clip_grad_value(parameters, clip_value):\n"
        "    for p in parameters:\n"
        "        if p.grad is not None:\n"
        "            p.grad.clamp_(max=clip_value)\n")
    runs = []
    for ci in ("true", None):  # both at once: two processes, each its own grader
        env = {k: v for k, v in os.environ.items() if k != "CI"}
        if ci:
            env["CI"] = ci
        out = tmp_path / f"r-{ci}.json"
        runs.append((out, subprocess.Popen(
            [sys.executable, "-m", "gradkata", "grade", str(tmp_path / "clip_grad_value.py"), "--kata",
             "clip_grad_value", "--seed", "4242", "--examples", "5", "--json", str(out)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    scores = []
    try:
        for out, proc in runs:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err[-2000:]
            scores.append([(t["name"], t["score"]) for t in json.loads(out.read_text())["tests"]])
    finally:
        for _, proc in runs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert scores[0] == scores[1]


THREADS = """
import sys
from gradkata.cli import main
sys.argv = ["gradkata", "list"]
main()
import torch
print(torch.get_num_threads(), file=sys.stderr)
"""


@pytest.mark.parametrize("given, expected", [(None, 1), ("2", 2)])
def test_the_command_line_runs_torch_on_one_thread_unless_told(given, expected):
    # The trusted side's tensors are tiny; torch's pool would only spin against the children (gradkata._startup).
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if given is not None:
        env["OMP_NUM_THREADS"] = given
    proc = subprocess.run([sys.executable, "-c", THREADS], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stderr.strip().splitlines()[-1]) == expected
