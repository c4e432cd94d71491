"""Grading cost per submission of one kata: zclip next to clip_grad_norm. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/kata_cost.py [--katas zclip,clip_grad_norm] [--runs 5] [--examples 30]

For each kata, on its own warm zygote with its suite collected (what a batch worker
has after its first submission): one submission to warm up, then ``--runs``
submissions (the reference, each file different), each timed from the end of
the previous result to its own; the median is the cost of one submission of
that kata, performance tier included. Hypothesis examples are replayed after
the first passing run, as in `gradkata grade` and batches.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradkata.api import grade_many, select  # noqa: E402
from gradkata.batch.replay import Replay  # noqa: E402
from gradkata.pool import Zygote  # noqa: E402
from gradkata.settings import DEFAULT_EXAMPLES  # noqa: E402
from gradkata.settings import GradingSettings  # noqa: E402


def _submissions(folder: Path, slug: str, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        sub = folder / f"{slug}_{i:02d}"
        sub.mkdir(parents=True)
        (sub / f"{slug}.py").write_text((ROOT / "solutions" / f"{slug}.py").read_text() + f"\n# student {i}\n")
        paths.append(sub)
    return paths


def cost(slug: str, runs: int, examples: int, folder: Path) -> tuple[list[float], float]:
    """Per-submission seconds after a warm-up submission, and the score each got (the last one's)."""
    chosen = select([slug])
    paths = _submissions(folder, slug, runs + 1)
    stamps: list[float] = []
    scores: list[float] = []

    def done(_i: int, result) -> None:
        stamps.append(time.perf_counter())
        scores.append(result.score)

    with Zygote(drivers=[k.harness for k in chosen]) as z:
        grade_many(z, list(enumerate(paths)), chosen, done, GradingSettings(seed=1, examples=examples),
                   plugins=[Replay()])
    return [b - a for a, b in zip(stamps, stamps[1:])], scores[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--katas", default="zclip,clip_grad_norm")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES)
    args = parser.parse_args(argv)
    print(f"grading cost per submission (reference submissions, warm zygote, suites collected, "
          f"median of {args.runs}, {args.examples} hypothesis examples, replayed)")
    with tempfile.TemporaryDirectory() as tmp:
        for slug in args.katas.split(","):
            times, score = cost(slug, args.runs, args.examples, Path(tmp))
            spread = ", ".join(f"{t * 1e3:.0f}" for t in times)
            print(f"  {slug:28} {statistics.median(times) * 1e3:7.0f} ms   (each: {spread} ms; score {score:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
