"""A submission's katas that share a child grade exactly as katas with a child each."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradkata import GradingSettings, prefetch
from gradkata.api import grade_many, select
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.pool import Zygote, Limits

from .classes import student, verdict
from .test_prefetch import DIES_LATE, HANGS

# Two groups: the three katas that forbid PyTorch's clipping, the two that do not.
KATAS = ["clip_grad_norm", "clip_grad_value", "clip_by_norm", "clip_by_value", "train_step_with_clipping"]
SOLUTIONS = PROJECT_ROOT / "solutions"

# Process-wide changes, at import and in a call, by katas graded before train_step_with_clipping
# in its shared child: a child of its own would never see them, so neither may it.
PATCHES_LOSS = '''import torch

torch.nn.functional.mse_loss = lambda a, b, **k: (a - b).abs().sum() * 0
torch.set_default_dtype(torch.float64)
'''
GRAD_OFF = '''import numpy as np
import torch


def clip_by_value(g, c):
    torch.set_grad_enabled(False)
    torch.manual_seed(1234)
    return np.clip(g, -c, c)
'''


def _reference(slug: str) -> str:
    return (SOLUTIONS / f"{slug}.py").read_text()


def _one_file(texts: dict[str, str]) -> str:
    """Several katas' code in one file, as a student who keeps one file would hand it in."""
    return "from __future__ import annotations\n" + "".join(
        "\n".join(line for line in text.splitlines() if not line.startswith("from __future__")) + "\n"
        for text in texts.values())


@pytest.fixture(scope="module")
def students(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("class")
    ref = {slug: _reference(slug) for slug in KATAS}
    by_norm = ref["clip_by_norm"].replace("max(1.0, norm / tau)", "(norm / tau)")
    assert by_norm != ref["clip_by_norm"], "the mutant no longer applies to the reference"
    one = root / "one_file.py"
    one.write_text(_one_file(ref))
    return [
        student(root, "correct", ref),
        student(root, "mutant", {**ref, "clip_by_norm": by_norm}),
        student(root, "dies_late", {**ref, "clip_grad_norm": DIES_LATE}),
        student(root, "hangs", {**ref, "clip_grad_value": HANGS}),
        student(root, "exits_on_import", {**ref, "clip_grad_value": "import os\nos._exit(1)\n"}),
        student(root, "raises_on_import", {**ref, "clip_by_norm": "raise ImportError('no')\n"}),
        student(root, "changes_the_process", {**ref, "clip_by_norm": PATCHES_LOSS + ref["clip_by_norm"].replace(
            "from __future__ import annotations\n", ""), "clip_by_value": GRAD_OFF}),
        student(root, "stubs", {s: (PROJECT_ROOT / "exercises" / f"{s}.py").read_text() for s in KATAS}),
        one,
    ]


def _grade(zygote: Zygote, students: list[Path], share: bool) -> list[list[tuple]]:
    out: dict[int, list[tuple]] = {}
    grade_many(zygote, list(enumerate(students)), select(KATAS), lambda i, r: out.__setitem__(i, verdict(r)),
               GradingSettings(seed=3, examples=5), share_children=share)
    return [out[i] for i in range(len(students))]


def test_shared_children_grade_like_a_child_per_kata(students: list[Path], monkeypatch) -> None:
    shared: list[list[str]] = []
    real = Zygote.spawn_shared

    def counting(self, modules, **kw):
        shared.append([m.module for m in modules])
        return real(self, modules, **kw)

    monkeypatch.setattr(Zygote, "spawn_shared", counting)
    prefetch.forget()
    with Zygote(Limits(call_s=1.0)) as zygote:
        own = _grade(zygote, students, share=False)
        assert not shared
        together = _grade(zygote, students, share=True)
    assert together == own
    # Every student shared two children (one per group of katas), but the stubs, whose
    # functions all raise, and only as far as imports allowed.
    assert ["clip_grad_norm", "clip_grad_value"] in shared
    assert ["clip_by_norm", "clip_by_value", "train_step_with_clipping"] in shared
    assert len(shared) >= 2 * (len(students) - 1)
    verdicts = dict(zip([s.stem for s in students], together))
    full = {k[0]: k[1] == k[2] for k in verdicts["correct"]}
    assert all(full.values()), full
    changed = {k[0]: k for k in verdicts["changes_the_process"]}
    assert changed["train_step_with_clipping"][1] == changed["train_step_with_clipping"][2]
    assert changed["clip_by_value"][1] == changed["clip_by_value"][2]
    exits = {k[0]: k for k in verdicts["exits_on_import"]}
    assert exits["clip_grad_value"][3] == "error" and "crash while importing" in exits["clip_grad_value"][4]
    assert exits["clip_grad_norm"][1] == exits["clip_grad_norm"][2]
    assert all(k[1] == k[2] for k in verdicts["one_file"])
