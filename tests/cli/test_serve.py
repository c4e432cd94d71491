"""`gradkata serve` and `gradkata grade --server`: a resident grader gives the verdicts grading here gives."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gradkata import UsageError
from gradkata.api import grade
from gradkata.cli import main
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.results import SubmissionResult
from gradkata.serve import request

NORM = (PROJECT_ROOT / "solutions" / "clip_by_norm.py").read_text()


def _verdicts(results: list[SubmissionResult]) -> list[list[tuple]]:
    return [[(k.slug, k.score, k.status.value, [(c.name, c.message) for c in k.checks]) for k in r.katas]
            for r in results]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    sock = root / "s.sock"
    proc = subprocess.Popen([sys.executable, "-m", "gradkata", "serve", "--socket", str(sock), "--seed", "3"],
                            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not sock.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sock.exists(), proc.stdout.read() if proc.poll() is not None else "no socket after 60 s"
    yield sock, root
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    proc.stdout.close()
    assert not sock.exists()


def _students(root: Path) -> list[Path]:
    good, bad = root / "good.py", root / "bad.py"
    good.write_text(NORM)
    bad.write_text(NORM.replace("max(1.0, norm / tau)", "(norm / tau)"))
    return [good, bad]


def test_the_server_grades_as_grading_here_does(server) -> None:
    sock, root = server
    paths = _students(root)
    here = grade(paths, ["clip_by_norm"], seed=3, examples=5)
    for examples in (5, 4, 5):  # the same session, a new one, back again
        reply = request(sock, {"paths": [str(p) for p in paths], "katas": ["clip_by_norm"], "examples": examples})
        there = [SubmissionResult.from_dict(d) for d in reply["results"]]
        if examples == 5:
            assert _verdicts(there) == _verdicts(here)
    assert here[0].katas[0].score == here[0].katas[0].max_score > here[1].katas[0].score


def test_grade_with_server_prints_the_report(server, capsys) -> None:
    sock, root = server
    assert main(["grade", "--server", str(sock), "--kata", "clip_by_norm", "--seed", "3", "--examples", "3",
                 str(_students(root)[0])]) == 0
    assert "clip_by_norm" in capsys.readouterr().out


def test_bad_requests_are_usage_errors_and_the_server_goes_on(server) -> None:
    sock, root = server
    assert request(sock, {"paths": [str(root / "good.py")], "katas": ["no_such_kata"]})["usage"] is True
    missing = request(sock, {"paths": [str(root / "nobody.py")], "katas": ["clip_by_norm"], "examples": 2})
    assert missing["usage"] is True and "does not exist" in missing["error"]
    assert request(sock, {"paths": [], "katas": ["clip_by_norm"]}) == {"results": []}
    assert len(request(sock, {"paths": [str(_students(root)[0])], "katas": ["clip_by_norm"],
                              "examples": 2})["results"]) == 1


def test_no_server_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="gradkata serve"):
        request(tmp_path / "none.sock", {"paths": []})
    assert main(["grade", "--server", str(tmp_path / "none.sock"), "--timeout", "3"]) == 2
