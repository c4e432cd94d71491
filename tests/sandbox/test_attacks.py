"""Hostile submissions (tests/attacks/*.py) earn nothing, harm nothing and stop nobody else.

Each attack is the clip_by_value file of a submission whose clip_by_norm file
is correct; all are graded in one batch on one zygote, so an attack that broke
the zygote or the grader would also show up in the submissions after it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path

import pytest

from gradkata.api import grade
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.pool import Limits
from gradkata.report import results_json
from gradkata.results import Status
from gradkata.settings import GradingSettings

ATTACKS = Path(__file__).parents[1] / "attacks"
KATAS = ["clip_by_value", "clip_by_norm"]
LIMITS = Limits(call_s=2.0, kata_s=10.0, import_s=4.0)
ESCAPES = [Path("/tmp/gradkata-escaped.txt"), Path("/escaped.txt"), PROJECT_ROOT / "escaped.txt",
           Path.home() / "escaped.txt"]
# What the report must say for attacks the grader itself stops (others just fail the checks).
REASONS = {
    "endless_loop": "timeout", "sleep_at_import": "timeout", "os_exit_at_import": "crash",
    "segfault": "crash", "exit_at_import": "SystemExit", "import_suite": "ModuleNotFoundError",
    "disk_fill": "errno 28",
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("attacks")
    target = root / "target"
    target.mkdir()
    os.chmod(target, 0o777)  # even a world-writable folder outside the scratch must stay empty
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    fill = {"__PROJECT__": str(PROJECT_ROOT), "__TARGET__": str(target),
            "__PORT__": str(listener.getsockname()[1]), "__GRADER_PID__": str(os.getpid())}
    paths = []
    for attack in sorted(ATTACKS.glob("*.py")):
        folder = root / "subs" / attack.stem
        folder.mkdir(parents=True)
        text = attack.read_text()
        for key, value in fill.items():
            text = text.replace(key, value)
        (folder / "clip_by_value.py").write_text(text)
        shutil.copy(PROJECT_ROOT / "solutions" / "clip_by_norm.py", folder / "clip_by_norm.py")
        paths.append(folder)
    results = grade(paths, KATAS, GradingSettings(seed=1, examples=5), limits=LIMITS)
    time.sleep(4)  # give a detached forger (forged_report.py) the time to strike
    try:
        connection = listener.accept()[0]
        connection.close()
        connected = True
    except BlockingIOError:
        connected = False
    finally:
        listener.close()
    yield {Path(r.submission).name: r for r in results}, target, connected
    for escape in ESCAPES:
        escape.unlink(missing_ok=True)


def _kata(result, slug):
    return next(k for k in result.katas if k.slug == slug)


ATTACK_NAMES = sorted(p.stem for p in ATTACKS.glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_attack_earns_nothing_and_spares_the_neighbour(graded, name: str) -> None:
    results, _target, _connected = graded
    result = results[name]
    attacked, neighbour = _kata(result, "clip_by_value"), _kata(result, "clip_by_norm")
    if name == "output_flood":
        assert attacked.score == attacked.max_score > 0, attacked.reason
    else:
        assert attacked.score == 0.0 and attacked.status is not Status.PASSED
        said = attacked.reason + " ".join(c.message for c in attacked.checks)
        assert said.strip(), "the report must say what went wrong"
        if name in REASONS:
            assert REASONS[name] in said, said[:500]
    assert neighbour.score == neighbour.max_score > 0, neighbour.reason
    assert set(result.sandbox) >= {"rlimits", "netns", "scratch", "uid", "landlock", "seccomp"} or result.notes


@pytest.mark.slow
def test_flooding_submission_report_stays_small(graded) -> None:
    results, _target, _connected = graded
    result = results["output_flood"]
    assert len(json.dumps(results_json(result))) < 1_000_000
    assert len(json.dumps(result.to_dict())) < 1_000_000


@pytest.mark.slow
def test_nothing_written_outside_scratch_and_no_forged_report(graded) -> None:
    _results, target, _connected = graded
    assert list(target.iterdir()) == []
    assert not (target.parent / "results.json").exists()
    assert [p for p in ESCAPES if p.exists()] == []


@pytest.mark.slow
def test_no_loopback_connection(graded) -> None:
    _results, _target, connected = graded
    assert not connected


@pytest.mark.slow
def test_timings(graded) -> None:
    """Not a timed assertion: prints where the batch's time went (pytest -s)."""
    results, _target, _connected = graded
    for name, result in results.items():
        print(f"{name:20} {result.elapsed_s:6.2f} s")
