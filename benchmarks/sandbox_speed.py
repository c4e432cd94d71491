"""How fast is sandboxed grading? Prints figures; asserts nothing.

    .venv/bin/python benchmarks/sandbox_speed.py [--examples N] [--katas A,B] [--baseline]

Figures: sandbox overhead per child (fork + confinement, with and without the
layers), cold single-submission time (`gradkata grade`'s whole path: zygote
start, suite collection, grading), and a 10-submission batch of the norm +
value katas (default `clip_grad_norm` and `clip_grad_value`, the interview
pair) three ways: end to end in a fresh process, the same in this process, and
on an already warm zygote with its suites collected (what each batch worker does after its
start), plus end to end through a running `gradkata serve`. The marginal time
per submission and per kata comes from the warm run.
``--baseline`` adds a fresh interpreter per submission.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradkata.api import grade  # noqa: E402
from gradkata.doctor import spawn_cost_ms  # noqa: E402
from gradkata.pool import ALL_LAYERS, Limits, Zygote  # noqa: E402
from gradkata.settings import GradingSettings  # noqa: E402

KATAS = ["clip_grad_norm", "clip_grad_value"]


def _submissions(folder: Path, n: int, katas: list[str]) -> list[Path]:
    paths = []
    for i in range(n):
        sub = folder / f"student{i:02d}"
        sub.mkdir(parents=True)
        for slug in katas:
            # Each file differs, as real submissions do.
            (sub / f"{slug}.py").write_text((ROOT / "solutions" / f"{slug}.py").read_text() + f"\n# student {i}\n")
        paths.append(sub)
    return paths


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _cli(paths: list[Path], katas: list[str], examples: int) -> float:
    cmd = [sys.executable, "-m", "gradkata", "grade", *map(str, paths), "--seed", "1", "--examples", str(examples),
           "--no-server"]  # cold: not the warm grader `grade` would otherwise start and use
    for slug in katas:
        cmd += ["--kata", slug]
    return _timed(lambda: subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL))


def _served(paths: list[Path], katas: list[str], examples: int, folder: Path) -> tuple[float, float]:
    """`gradkata grade --server` end to end: (first request to a fresh server, a later one)."""
    sock = folder / "serve.sock"
    server = subprocess.Popen([sys.executable, "-m", "gradkata", "serve", "--socket", str(sock), "--seed", "1"],
                              cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        while not sock.exists():
            time.sleep(0.05)
        cmd = [sys.executable, "-m", "gradkata", "grade", "--server", str(sock), *map(str, paths),
               "--seed", "1", "--examples", str(examples)]
        for slug in katas:
            cmd += ["--kata", slug]
        runs = [_timed(lambda: subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL))
                for _ in range(3)]
        return runs[0], statistics.median(runs[1:])
    finally:
        server.send_signal(signal.SIGINT)
        server.wait()


def _warm(paths: list[Path], katas: list[str], examples: int) -> list[float]:
    """Per-submission times on a zygote (and suites collected) that have already graded one submission."""
    from gradkata.api import grade_many, select
    from gradkata.batch.replay import Replay

    chosen = select(katas)
    stamps = [0.0]
    with Zygote(drivers=[k.harness for k in chosen]) as z:
        grade_many(z, [(i, p) for i, p in enumerate([paths[0], *paths])], chosen,
                   lambda i, r: stamps.append(time.perf_counter()), GradingSettings(seed=1, examples=examples),
                   plugins=[Replay()])
    return [b - a for a, b in zip(stamps[1:], stamps[2:])]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=30)
    parser.add_argument("--katas", default=",".join(KATAS), help="comma-separated slugs (default: %(default)s)")
    parser.add_argument("--baseline", action="store_true", help="also time a fresh interpreter per submission")
    args = parser.parse_args()
    katas = args.katas.split(",")
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; katas {', '.join(katas)}; "
          f"hypothesis examples {args.examples}")

    with Zygote() as z:
        full = spawn_cost_ms(z, 9)
    with Zygote(Limits(disable=ALL_LAYERS)) as z:
        bare = spawn_cost_ms(z, 9)
    print(f"per child, fork + import + handshake: {bare:.1f} ms without layers, {full:.1f} ms with all "
          f"({full - bare:+.1f} ms for confinement)")

    with tempfile.TemporaryDirectory() as tmp:
        paths = _submissions(Path(tmp), 10, katas)
        print(f"cold single submission, `gradkata grade` in a fresh process: {_cli(paths[:1], katas, args.examples):.2f} s")
        print(f"10-submission batch, `gradkata grade A B ...` in a fresh process: "
              f"{_cli(paths, katas, args.examples):.2f} s wall (zygote start and imports included)")
        ten = _timed(lambda: grade(paths, katas, GradingSettings(seed=1, examples=args.examples)))
        print(f"10-submission batch, gradkata.grade() in this process: {ten:.2f} s wall (zygote start included)")
        first, later = _served(paths, katas, args.examples, Path(tmp))
        print(f"10-submission batch, `gradkata grade --server A B ...` end to end: {later:.2f} s wall "
              f"(the first request to a fresh `gradkata serve`: {first:.2f} s)")
        times = _warm(paths, katas, args.examples)
        print(f"10-submission batch on a warm zygote, suites collected: {sum(times):.2f} s wall "
              f"(median {statistics.median(times) * 1000:.0f} ms per submission, "
              f"{statistics.median(times) / len(katas) * 1000:.0f} ms per kata)")
        if args.baseline:
            code = ("import sys; from pathlib import Path; sys.path.insert(0, %r); "
                    "from gradkata.api import GradingSettings, grade; "
                    "grade([Path(sys.argv[1])], %r, GradingSettings(seed=1, examples=%d))"
                    % (str(ROOT), katas, args.examples))
            fresh = _timed(lambda: [subprocess.run([sys.executable, "-c", code, str(p)], check=True)
                                    for p in paths])
            print(f"baseline, fresh interpreter (and zygote) per submission: {fresh:.2f} s for 10 "
                  f"({fresh / 10:.2f} s each)")


if __name__ == "__main__":
    main()
