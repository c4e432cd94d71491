"""The visible examples, as plain data: the inputs each worked example builds and what the reference returns.

They are produced by running the suites' visible tests against the reference
and writing down the calls, so the hand-out carries their data and never the
suite's code.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..judge import LocalJudge
from ..katas import Kata
from ..runner import run_suites
from ..settings import GradingSettings


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return _plain(value.item()) if value.ndim == 0 else [_plain(v) for v in value]
    if isinstance(value, (np.float16, np.float32)):
        return float(str(value))  # the shortest text that is this float32: 1.5, not 1.4999998807907104
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def visible_calls(kata: Kata) -> list[tuple[dict, dict]]:
    """(scenario, the reference's observation) for each call the visible tests make."""
    judge = LocalJudge(kata, kata.reference())
    run_suites({kata.slug: judge}, [kata], GradingSettings(seed=1, examples=1, visible_only=True))
    return [(_plain(c.scenario), _plain(c.reply.get("obs", {}))) for c in judge.calls]


def examples_markdown(katas: list[Kata]) -> str:
    lines = ["# Worked examples", "",
             "Each example gives the inputs the grader builds (as plain data: `value` is a parameter's",
             "data, `grad` its gradient) and what a correct solution produces. The hidden tests",
             "check many more cases, generated at random, against PyTorch's own behaviour.", ""]
    for kata in katas:
        if not kata.suite_path.is_file():
            continue
        lines += [f"## {kata.slug}: {kata.title}", ""]
        for i, (scenario, obs) in enumerate(visible_calls(kata), 1):
            lines += [f"Example {i}, inputs:", "", "```json", json.dumps(scenario), "```", "",
                      "a correct solution gives:", "", "```json", json.dumps(obs), "```", ""]
    return "\n".join(lines).rstrip() + "\n"
