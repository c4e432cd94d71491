"""What run_autograder runs: grade one Gradescope submission and write results.json.

Whatever happens, a results.json is written: a grader failure becomes a
zero-score result that says what went wrong, rather than Gradescope's blank
"autograder failed" page.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

from .bundle import BundleConfig
from .spec import validate


def locate(submission: Path, slugs: list[str]) -> Path:
    """The folder, or the one notebook or .py file, a student uploaded."""
    if not submission.is_dir():
        return submission
    if any((submission / f"{s}.py").is_file() for s in slugs):
        return submission
    files = [p for p in submission.rglob("*") if p.is_file() and "__MACOSX" not in p.parts
             and not p.name.startswith(".")]
    kata_dirs = {p.parent for p in files if p.stem in slugs and p.suffix == ".py"}
    if len(kata_dirs) == 1:
        return kata_dirs.pop()  # uploaded as a zip with a top-level folder
    for suffix in (".ipynb", ".py"):
        candidates = [p for p in files if p.suffix == suffix]
        if len(candidates) == 1:
            return candidates[0]
    return submission


def failure(message: str, started: float) -> dict:
    return {"score": 0.0, "execution_time": round(time.perf_counter() - started, 3),
            "output": f"The autograder could not grade this submission: {message}\n"
                      "Nothing was wrong with your score on purpose; please tell your instructor.",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": []}


def autograde(config: BundleConfig, submission: Path) -> dict:
    from ..api import grade
    from ..batch.replay import freeze_hypothesis_constants
    from ..katas import SLUGS, get
    from ..pool import Limits
    from ..report import render, results_json

    slugs = config.katas or [s for s in SLUGS if get(s).suite_path.is_file()]
    path = locate(submission, slugs)
    limits = Limits(call_s=config.call_s) if config.call_s else None
    freeze_hypothesis_constants()  # a regrade meets exactly the same examples
    from ..settings import GradingSettings
    from ..tiers import TierPolicy

    policy = TierPolicy.from_mapping(config.tiers) if config.tiers else TierPolicy()
    [result] = grade([path], slugs, GradingSettings(config.seed, config.examples, policy=policy), limits=limits)
    print(render(result))
    return results_json(result, config.hidden_visibility)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_autograder")
    parser.add_argument("--config", required=True)
    parser.add_argument("--submission", required=True)
    parser.add_argument("--results", required=True)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        results = autograde(BundleConfig.load(Path(args.config)), Path(args.submission))
        problems = validate(results)
        if problems:
            results = failure("the grader produced a malformed results.json (" + "; ".join(problems[:3]) + ")",
                              started)
    except Exception as exc:  # the grader's own failure: still leave a results.json
        traceback.print_exc()
        results = failure(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", started)
    target = Path(args.results)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
