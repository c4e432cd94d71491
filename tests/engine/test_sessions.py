"""One suite session for many submissions, and one zygote for many trusted processes."""

from __future__ import annotations

import queue
from dataclasses import dataclass
from pathlib import Path

import pytest

from gradkata import WorkerDied, WorkerStartError
from gradkata.api import grade_many, grade_submission, select
from gradkata.batch.replay import Replay
from gradkata.batch.run import _next
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.pool import Zygote
from gradkata.settings import GradingSettings

from .classes import student, verdict

KATAS = ["clip_grad_value", "clip_by_norm"]
SOLUTIONS = PROJECT_ROOT / "solutions"


@pytest.fixture(scope="module")
def students(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("class")
    value = (SOLUTIONS / "clip_grad_value.py").read_text()
    norm = (SOLUTIONS / "clip_by_norm.py").read_text()
    one_sided = value.replace("clamp_min_(-clip_value).clamp_max_(clip_value)", "clamp_max_(clip_value)")
    always = norm.replace("max(1.0, norm / tau)", "(norm / tau)")
    assert one_sided != value and always != norm, "the mutants no longer apply to the references"
    return [
        student(root, "correct", {"clip_grad_value": value, "clip_by_norm": norm}),
        student(root, "mutants", {"clip_grad_value": one_sided, "clip_by_norm": always}),
        student(root, "exits", {"clip_grad_value": "import os\nos._exit(3)\n", "clip_by_norm": norm}),
        student(root, "half", {"clip_by_norm": always}),
        student(root, "correct_again", {"clip_grad_value": value + "\n# again\n", "clip_by_norm": norm}),
    ]


def test_one_session_for_many_grades_like_one_session_each(students: list[Path], shared_zygote: Zygote) -> None:
    katas = select(KATAS)
    zygote = shared_zygote
    apart = [verdict(grade_submission(zygote, p, katas, GradingSettings(seed=11, examples=5))) for p in students]
    together: dict[int, list] = {}
    grade_many(zygote, list(enumerate(students)), katas, lambda i, r: together.__setitem__(i, verdict(r)),
               settings=GradingSettings(seed=11, examples=5), plugins=[Replay()])
    assert [together[i] for i in range(len(students))] == apart
    assert apart[1][0][6] == ["clip_grad_value/upper-bound-only"], "a diagnosis is among what is compared"
    scores = [sum(k[1] for k in v) for v in apart]
    assert scores[0] == scores[4] == sum(k[2] for k in apart[0]) and scores[1] < scores[0] and scores[2] < scores[0]


def test_an_unreadable_path_is_reported_and_the_rest_graded(students: list[Path], tmp_path: Path,
                                                           shared_zygote: Zygote) -> None:
    katas = select(KATAS)
    graded, unreadable = [], []
    grade_many(shared_zygote, [("gone", tmp_path / "nobody"), ("ok", students[0])], katas,
               lambda tag, r: graded.append(tag), GradingSettings(seed=1, examples=2),
               on_unreadable=lambda tag, path, exc: unreadable.append((tag, str(exc))))
    assert graded == ["ok"] and unreadable[0][0] == "gone" and "does not exist" in unreadable[0][1]


def _spawn_and_call(zygote: Zygote, value: int) -> dict:
    child = zygote.spawn(f"def f():\n    return {value}\n", module="m", functions=["f"])
    try:
        assert child.handshake()["found"] == {"f": "callable"}
    finally:
        child.close()
    return zygote.info


def test_a_shared_zygote_serves_another_process_and_survives_its_owner() -> None:
    owner = Zygote().launch(shares=1)
    try:
        guest = Zygote(share=owner.shares[0])
        assert not guest.owned and guest.root == owner.root
        _spawn_and_call(guest, 1)  # waits for the zygote on the guest's own channel
        assert guest.layers() == owner.layers()
        owner.proc.kill()  # the shared zygote dies: the guest goes on with one of its own
        owner.proc.wait()
        _spawn_and_call(guest, 2)
        assert guest.owned and guest.restarts == 1 and guest.root != owner.root
        guest.close()
        assert not guest.root.exists()
    finally:
        owner.close()
    assert not owner.root.exists()


def test_a_guest_leaving_does_not_stop_the_zygote() -> None:
    owner = Zygote().launch(shares=2)
    try:
        first, second = (Zygote(share=s) for s in owner.shares)
        _spawn_and_call(first, 1)
        first.close()  # says "exit" on its channel only
        _spawn_and_call(second, 2)
        assert owner.alive() and second.restarts == 0 and owner.root.exists()
    finally:
        owner.close()
    owner.close()  # closing twice is harmless (as `with` after an explicit close() does)
    assert not owner.root.exists()


def test_an_unknown_driver_is_refused(shared_zygote: Zygote) -> None:
    with pytest.raises(WorkerStartError, match="refused"):
        shared_zygote.spawn("x = 1\n", module="m", functions=[], harness="no_such_driver")
    _spawn_and_call(shared_zygote, 3)  # and the zygote goes on serving


@dataclass
class _Dead:
    exitcode: int | None = -9

    def is_alive(self) -> bool:
        return self.exitcode is None


def test_a_dead_worker_stops_the_batch_with_a_clear_error() -> None:
    with pytest.raises(WorkerDied, match="exit code -9.*again"):
        _next(queue.Queue(), [_Dead(), _Dead(None)])
    results: queue.Queue = queue.Queue()
    results.put(("result", "alice", {}, 0.1))
    assert _next(results, [_Dead()])[1] == "alice"  # what it sent before dying still counts
