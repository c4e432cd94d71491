"""Sending a kata's scenarios ahead (one request per kata) grades exactly as one call per ask."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradkata import GradingSettings, prefetch, runner
from gradkata.api import grade_many, select
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.pool import Limits, Zygote

from .classes import student, verdict

KATAS = ["clip_grad_norm", "clip_grad_value", "clip_by_norm"]
SOLUTIONS = PROJECT_ROOT / "solutions"

# Clips right, returns a wrong norm (a check fails early, so later scenarios are
# read ahead of the asks), and dies on half precision, which only a later check sends.
DIES_LATE = '''import os
import torch


def clip_grad_norm(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if any(g.dtype == torch.float16 for g in grads):
        os._exit(3)
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.float()) for g in grads])) \\
        if grads else torch.tensor(0.0)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.to(g.dtype))
    return total * 0 + 1.0
'''
# Hangs on an empty parameter list: a call times out, the kata is zeroed.
HANGS = '''import torch


def clip_grad_value(parameters, clip_value):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    while not parameters:
        pass
    for p in parameters:
        if p.grad is not None:
            p.grad.clamp_(-clip_value, clip_value)
'''


@pytest.fixture(scope="module")
def students(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("class")
    ref = {slug: (SOLUTIONS / f"{slug}.py").read_text() for slug in KATAS}
    mutants = {
        "clip_grad_norm": ref["clip_grad_norm"].replace("vector_norm(g.detach(), 2.0)", "vector_norm(g.detach(), 1.0)"),
        "clip_grad_value": ref["clip_grad_value"].replace("clamp_min_(-clip_value).clamp_max_(clip_value)",
                                                          "clamp_max_(clip_value)"),
        "clip_by_norm": ref["clip_by_norm"].replace("max(1.0, norm / tau)", "(norm / tau)"),
    }
    assert all(mutants[s] != ref[s] for s in KATAS), "the mutants no longer apply to the references"
    return [
        student(root, "correct", ref),
        student(root, "mutants", mutants),
        student(root, "dies_late", {**ref, "clip_grad_norm": DIES_LATE}),
        student(root, "hangs", {**ref, "clip_grad_value": HANGS}),
        student(root, "stubs", {s: (PROJECT_ROOT / "exercises" / f"{s}.py").read_text() for s in KATAS}),
        student(root, "correct_again", {s: t + "\n# again\n" for s, t in ref.items()}),
    ]


def _grade(zygote: Zygote, students: list[Path]) -> list[list[tuple]]:
    out: dict[int, list[tuple]] = {}
    grade_many(zygote, list(enumerate(students)), select(KATAS), lambda i, r: out.__setitem__(i, verdict(r)),
               GradingSettings(seed=5, examples=6))
    return [out[i] for i in range(len(students))]


def test_scenarios_sent_ahead_grade_like_one_call_per_ask(students: list[Path], monkeypatch) -> None:
    opened: list[str] = []
    real_open = runner._open_child

    def counting_open(zygote, kata, source):
        opened.append(kata.slug)
        return real_open(zygote, kata, source)

    monkeypatch.setattr(runner, "_open_child", counting_open)
    prefetch.forget()
    with Zygote(Limits(call_s=1.0)) as zygote:
        with prefetch.disabled():
            per_call = _grade(zygote, students)
        assert not prefetch._SCRIPTS, "nothing may be recorded while sending ahead is off"
        # No script (a fresh seed): each scenario is sent as the suite starts judging it.
        opened.clear()
        with monkeypatch.context() as m:
            m.setattr(prefetch, "lookup", lambda key: None)
            m.setattr(prefetch, "record", lambda key, asked: None)
            asked_ahead = _grade(zygote, students)
        assert len(opened) == len(students) * len(KATAS), "a child sent only what is asked next needs no regrade"
        primed = _grade(zygote, students[:1])  # records every kata's script from a complete run
        assert {key[0] for key in prefetch._SCRIPTS} == set(KATAS)
        opened.clear()
        ahead = _grade(zygote, students)
    assert asked_ahead == per_call
    assert primed[0] == per_call[0]
    assert ahead == per_call
    # The child that died on a scenario sent ahead (dies_late) was regraded one call per ask.
    assert len(opened) == len(students) * len(KATAS) + 1 and opened.count("clip_grad_norm") == len(students) + 1
    verdicts = dict(zip([s.name for s in students], ahead))
    died = next(k for k in verdicts["dies_late"] if k[0] == "clip_grad_norm")
    assert died[3] == "error" and "crash" in died[4]
    hung = next(k for k in verdicts["hangs"] if k[0] == "clip_grad_value")
    assert hung[3] == "error" and "timeout" in hung[4]


def _asked() -> list[bytes]:
    import numpy as np

    from gradkata.pool import call_message

    return [call_message("clip_by_value", {"g": np.arange(n, dtype=np.float64), "c": 1.5}) for n in (1, 3, 5)]


def test_a_fixed_seed_script_is_kept_on_disk_and_checked_when_read(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GRADKATA_CACHE", str(tmp_path))
    key = ("clip_by_value", 3, 7, False)
    prefetch.forget()
    with prefetch.kept_on_disk():
        prefetch.record(key, _asked())
        kept = prefetch.lookup(key)
        [path] = (tmp_path / "scripts").iterdir()
        prefetch.forget()
        assert prefetch.lookup(key) == kept  # read back from disk, keys recomputed from the requests
        assert prefetch.lookup(("clip_by_value", 4, 7, False)) is None  # another seed: another file
        prefetch.forget()
        path.chmod(0o664)  # writable by others: not trusted
        assert prefetch.lookup(key) is None
        path.chmod(0o600)
        prefetch.forget()
        path.write_bytes(path.read_bytes()[:-5])  # damaged: no script, no error
        assert prefetch.lookup(key) is None
    prefetch.forget()


def test_nothing_is_written_unless_asked(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GRADKATA_CACHE", str(tmp_path))
    prefetch.forget()
    with prefetch.kept_on_disk(False):
        prefetch.record(("clip_by_value", 3, 7, False), _asked())
        assert prefetch.lookup(("clip_by_value", 3, 7, False)) is not None
    assert not (tmp_path / "scripts").exists()
    prefetch.forget()


def test_a_recorded_script_builds_its_one_request_only_when_first_needed() -> None:
    # One submission graded with a fresh seed never sends or saves its scripts: no request built.
    import numpy as np

    from gradkata.pool import call_message, calls_message

    asked = [call_message("clip_grad_norm", {"max_norm": float(i), "g": np.arange(3.0) * i}) for i in range(3)]
    script = prefetch.Script.recorded(asked)
    assert script.keys == tuple(prefetch.digest(m) for m in asked)
    assert script._message is None
    assert script.message == calls_message(asked)
    assert script == prefetch.Script(script.keys, calls_message(asked))
