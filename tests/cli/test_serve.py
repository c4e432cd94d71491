"""`gradkata serve`, `grade --server` and the warm grader check and grade start: the verdicts grading here gives."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from gradkata import UsageError
from gradkata.api import grade
from gradkata.cli import main
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.results import SubmissionResult
from gradkata.serve import IDLE_ENV, NO_SERVER_ENV, SOCKET_NAME, code_digest, request, warm_client
from gradkata.sockets import Client
from gradkata.settings import GradingSettings

NORM = (PROJECT_ROOT / "solutions" / "clip_by_norm.py").read_text()


def _verdicts(results: list[SubmissionResult]) -> list[list[tuple]]:
    return [[(k.slug, k.score, k.status.value, [(c.name, c.message) for c in k.checks]) for k in r.katas]
            for r in results]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    sock = root / "s.sock"
    # PYTHONFAULTHANDLER: a server that does not stop is made to print where each of its threads is.
    proc = subprocess.Popen([sys.executable, "-m", "gradkata", "serve", "--socket", str(sock), "--seed", "3"],
                            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONFAULTHANDLER": "1"})
    try:
        deadline = time.monotonic() + 60
        while not sock.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sock.exists(), proc.stdout.read() if proc.poll() is not None else "no socket after 60 s"
        yield sock, root
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            pytest.fail("the server did not stop within 60 s of SIGINT; its output and threads:\n"
                        + proc.communicate(timeout=30)[0][-6000:])
        assert code == 0, proc.stdout.read()[-3000:]
        assert not sock.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()  # reaps it and closes the pipe


def _students(root: Path) -> list[Path]:
    good, bad = root / "good.py", root / "bad.py"
    good.write_text(NORM)
    bad.write_text(NORM.replace("max(1.0, norm / tau)", "(norm / tau)"))
    return [good, bad]


@pytest.fixture(scope="module")
def here(tmp_path_factory) -> list[SubmissionResult]:
    """The two students graded here, cold (``grade()``, a zygote of its own), once for the tests that compare
    a warm grader's verdicts with them."""
    return grade(_students(tmp_path_factory.mktemp("here")), ["clip_by_norm"], GradingSettings(seed=3, examples=5))


def test_the_server_grades_as_grading_here_does(server, here) -> None:
    sock, root = server
    paths = _students(root)
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


# --- the warm grader that `check` and `grade` start for themselves ------------------------------------

@pytest.fixture
def own_runtime_dir(monkeypatch):
    """A private runtime folder of this test's own (short: socket paths are limited), the opt-out lifted."""
    folder = Path(tempfile.mkdtemp(prefix="gk-", dir="/tmp"))
    folder.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    monkeypatch.delenv(NO_SERVER_ENV, raising=False)
    yield folder / "gradkata"
    with contextlib.suppress(OSError, UsageError):
        with Client(folder / "gradkata" / SOCKET_NAME, timeout_s=30) as leftover:
            leftover.ask({"op": "stop"})
    shutil.rmtree(folder, ignore_errors=True)


def _without_timing(out: str) -> list[str]:
    # The time taken and the child's scratch folder differ from run to run; the verdicts may not.
    return [re.sub(r"/tmp/gradkata-\w+/jobs/\d+/", "JOB/", line) for line in out.splitlines()
            if not line.strip().startswith("total:")]


def _gone(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):  # exited; a zombie until its parent (this process) reaps it
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_check_starts_a_warm_grader_that_gives_the_cold_verdicts(own_runtime_dir, tmp_path, capsys, here) -> None:
    bad = _students(tmp_path)[1]
    assert main(["check", "clip_by_norm", str(bad), "--no-server"]) == 0
    cold = capsys.readouterr().out
    assert not (own_runtime_dir / SOCKET_NAME).exists()
    assert main(["check", "clip_by_norm", str(bad)]) == 0  # starts one
    started = capsys.readouterr()
    assert (own_runtime_dir / SOCKET_NAME).exists(), started.err
    assert main(["check", "clip_by_norm", str(bad)]) == 0  # uses it
    warm = capsys.readouterr()
    assert "failed" in cold or "FAIL" in cold
    assert _without_timing(started.out) == _without_timing(warm.out) == _without_timing(cold)
    assert warm.err == ""
    with Client(own_runtime_dir / SOCKET_NAME) as client:
        pid = client.hello["pid"]
    # The client side of a warm check imports neither torch nor NumPy: it pays Python's start only.
    probe = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom gradkata.cli import main\nrc = main(sys.argv[1:])\n"
         "print(rc, sorted(m for m in ('torch', 'numpy', 'pytest', 'hypothesis') if m in sys.modules))",
         "check", "clip_by_norm", str(bad)], capture_output=True, text=True, timeout=120)
    assert probe.stdout.splitlines()[-1] == "0 []", probe.stdout + probe.stderr
    # `grade` shares it, with the hidden suite's verdicts of a cold run.
    paths = _students(tmp_path)
    reply = request(None, {"paths": [str(p) for p in paths], "katas": ["clip_by_norm"], "seed": 3, "examples": 5},
                    start=True)
    assert _verdicts([SubmissionResult.from_dict(d) for d in reply["results"]]) == _verdicts(here)
    with Client(own_runtime_dir / SOCKET_NAME) as client:
        assert client.hello["pid"] == pid


@pytest.mark.slow
def test_a_stale_grader_is_replaced_and_an_idle_one_stops(own_runtime_dir, monkeypatch) -> None:
    monkeypatch.setenv(IDLE_ENV, "600")
    with warm_client() as first:
        old = first.hello["pid"]
    # A setting that changes grading (any GRADKATA_ variable) makes the running grader stale...
    monkeypatch.setenv("GRADKATA_TEST_SETTING", "changed")
    monkeypatch.setenv(IDLE_ENV, "1.5")
    with warm_client() as second:
        new = second.hello["pid"]
        assert new != old and second.hello["digest"] == code_digest()
    assert _gone(old, 60), "the stale grader is still running"
    # ... and the new one, idle for 1.5 s, stops by itself and frees its socket.
    assert _gone(new, 60), "the idle grader is still running"
    assert not (own_runtime_dir / SOCKET_NAME).exists()
