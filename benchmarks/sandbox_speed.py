"""How fast is sandboxed grading? Prints figures; asserts nothing.

    .venv/bin/python benchmarks/sandbox_speed.py [--examples N] [--baseline]

Figures: cold single-submission time (zygote start included), marginal time
per submission and per kata in a batch, sandbox overhead per child (fork +
confinement, with and without the layers), and a 10-submission batch of the
norm + value katas beside a fresh-interpreter-per-submission baseline.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.api import grade  # noqa: E402
from grader.doctor import spawn_cost_ms  # noqa: E402
from grader.pool import ALL_LAYERS, Limits, Zygote  # noqa: E402

KATAS = ["clip_by_norm", "clip_by_value"]


def _submissions(folder: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        sub = folder / f"student{i:02d}"
        sub.mkdir(parents=True)
        for slug in KATAS:
            shutil.copy(ROOT / "solutions" / f"{slug}.py", sub / f"{slug}.py")
        paths.append(sub)
    return paths


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=30)
    parser.add_argument("--baseline", action="store_true", help="also time a fresh interpreter per submission")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; hypothesis examples {args.examples}")

    with Zygote() as z:
        full = spawn_cost_ms(z, 9)
    with Zygote(Limits(disable=ALL_LAYERS)) as z:
        bare = spawn_cost_ms(z, 9)
    print(f"per child, fork + import + handshake: {bare:.1f} ms without layers, {full:.1f} ms with all "
          f"({full - bare:+.1f} ms for confinement)")

    with tempfile.TemporaryDirectory() as tmp:
        paths = _submissions(Path(tmp), 10)
        cold = _timed(lambda: grade(paths[:1], KATAS, seed=1, examples=args.examples))
        print(f"cold single submission (zygote start + 2 katas): {cold:.2f} s")
        one = _timed(lambda: grade(paths[:1], KATAS, seed=1, examples=args.examples))
        ten = _timed(lambda: grade(paths, KATAS, seed=1, examples=args.examples))
        per_sub = (ten - one) / 9
        print(f"10-submission batch, norm + value katas: {ten:.2f} s wall")
        print(f"marginal per submission: {per_sub * 1000:.0f} ms; per kata: {per_sub / len(KATAS) * 1000:.0f} ms")
        with Zygote() as z:
            from grader.api import grade_submission, select

            katas = select(KATAS)
            grade_submission(z, paths[0], katas, seed=1, examples=args.examples)  # warm caches
            times = [_timed(lambda p=p: grade_submission(z, p, katas, seed=1, examples=args.examples))
                     for p in paths]
        print(f"  of which per submission with a warm zygote: median {statistics.median(times) * 1000:.0f} ms")
        print(f"10-submission batch, norm + value katas, warm zygote (the start paid once before): "
              f"{sum(times):.2f} s wall")
        if args.baseline:
            code = ("import sys; from pathlib import Path; sys.path.insert(0, %r); from grader.api import grade; "
                    "grade([Path(sys.argv[1])], %r, seed=1, examples=%d)" % (str(ROOT), KATAS, args.examples))
            fresh = _timed(lambda: [subprocess.run([sys.executable, "-c", code, str(p)], check=True)
                                    for p in paths])
            print(f"baseline, fresh interpreter (and zygote) per submission: {fresh:.2f} s for 10 "
                  f"({fresh / 10:.2f} s each)")


if __name__ == "__main__":
    main()
