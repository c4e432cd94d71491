"""Benchmark `gradkata grade-batch` on synthetic submissions; check that SIGKILL + resume loses nothing.

    .venv/bin/python benchmarks/batch_grading.py                 # 200 submissions, then the kill/resume check
    .venv/bin/python benchmarks/batch_grading.py -n 40 --workers 2 --no-resume

Builds N student folders on the five core katas: correct ones, mutants (one
kata with a usual mistake), attacks (an endless loop, os._exit, a patched
torch.allclose) and untouched stubs. Each file carries the student's number,
so no two submissions are byte-identical. Prints figures; asserts nothing
about speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ["clip_grad_norm", "clip_grad_value", "clip_by_norm", "clip_by_value", "train_step_with_clipping"]

# (kata, mistake, old, new): small edits of the reference that make a usual mistake.
MUTANTS = [
    ("clip_grad_norm", "no clamp", "torch.clamp(max_norm / (total + EPS), max=1.0)", "max_norm / (total + EPS)"),
    ("clip_grad_norm", "L1 norm", "vector_norm(g.detach(), 2.0)", "vector_norm(g.detach(), 1.0)"),
    ("clip_grad_value", "one-sided", "clamp_min_(-clip_value).clamp_max_(clip_value)", "clamp_max_(clip_value)"),
    ("clip_by_norm", "always rescales", "max(1.0, norm / tau)", "(norm / tau)"),
    ("clip_by_value", "lower bound 0", "np.clip(g, -c, c)", "np.clip(g, 0, c)"),
    ("train_step_with_clipping", "no zero_grad", "    optimizer.zero_grad()\n", ""),
    ("train_step_with_clipping", "step before clip",
     "    total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)\n    optimizer.step()",
     "    optimizer.step()\n    total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)"),
]
ATTACKS = {
    "endless loop": "def clip_grad_norm(parameters, max_norm):\n    while True:\n        pass\n",
    "os._exit": "import os\n\n\ndef clip_grad_norm(parameters, max_norm):\n    os._exit(0)\n",
    "patched allclose": ("import numpy\nimport torch\n\ntorch.allclose = lambda *a, **k: True\n"
                         "numpy.allclose = lambda *a, **k: True\n\n\n"
                         "def clip_grad_norm(parameters, max_norm):\n    return 0.0\n"),
    "exit on import": "import os\nos._exit(1)\n",
}


def reference(slug: str) -> str:
    return (ROOT / "solutions" / f"{slug}.py").read_text()


def stub(slug: str) -> str:
    return (ROOT / "exercises" / f"{slug}.py").read_text()


def kind_of(i: int) -> str:
    """Half correct, three in ten mutants, one in ten attacks, one in ten stubs."""
    r = i % 10
    return "correct" if r < 5 else "mutant" if r < 8 else "attack" if r == 8 else "stub"


SLEEPER = "import time\n\ntime.sleep(1000)  # a training run left at module level\n"


def build(folder: Path, n: int, sleepers: int = 0) -> dict[str, str]:
    kinds = {}
    every = n // sleepers if sleepers else 0
    for i in range(n):
        if every and i % every == every - 1 and i // every < sleepers:
            # One file for every kata, with top-level code that outlasts the import budget.
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"student{i:03d}.py").write_text(SLEEPER + f"\n# submitted by student {i}\n")
            kinds[f"student{i:03d}"] = "sleeper"
            continue
        student = folder / f"student{i:03d}"
        student.mkdir(parents=True)
        files = {slug: reference(slug) for slug in CORE}
        kind = kind_of(i)
        if kind == "mutant":
            slug, name, old, new = MUTANTS[(i // 10) % len(MUTANTS)]
            assert old in files[slug], f"mutant {name!r} no longer applies to solutions/{slug}.py"
            files[slug] = files[slug].replace(old, new)
            kind = f"mutant: {slug} {name}"
        elif kind == "attack":
            name = list(ATTACKS)[(i // 10) % len(ATTACKS)]
            files["clip_grad_norm"] = ATTACKS[name]
            kind = f"attack: {name}"
        elif kind == "stub":
            files = {slug: stub(slug) for slug in CORE}
        for slug, text in files.items():
            (student / f"{slug}.py").write_text(text + f"\n# submitted by student {i}\n")
        kinds[student.name] = kind
    return kinds


def batch_cmd(subs: Path, book: Path, args: argparse.Namespace) -> list[str]:
    cmd = [sys.executable, "-m", "gradkata", "grade-batch", str(subs), "--gradebook", str(book), "--quiet",
           "--examples", str(args.examples), "--seed", str(args.seed), "--timeout", str(args.timeout)]
    for slug in CORE:
        cmd += ["--kata", slug]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    if args.no_replay:
        cmd.append("--no-replay")
    return cmd


def count(book: Path) -> int:
    try:
        with sqlite3.connect(book, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def scores(book: Path) -> dict[str, tuple]:
    from gradkata.batch import Gradebook

    with Gradebook(book) as gb:
        return {r.student: (r.score, tuple((k.slug, k.score, k.status.value) for k in r.result.katas))
                for r in gb.rows()}


def machine_cpu() -> float:
    """CPU seconds the whole machine has spent busy so far (/proc/stat).

    The batch's workers are forked by a fork server and their children by the
    zygote, so the batch's own rusage misses most of its work; the machine's
    busy time catches all of it (and anything else running: see the load average).
    """
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def timed_batch(subs: Path, book: Path, args: argparse.Namespace) -> float:
    started, cpu = time.perf_counter(), machine_cpu()
    done = subprocess.run(batch_cmd(subs, book, args), cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"grade-batch failed:\n{done.stderr[-3000:]}")
    print(done.stderr.strip().splitlines()[-1])
    cpu = machine_cpu() - cpu
    cores = os.cpu_count() or 1
    print(f"machine busy {cpu:.1f} CPU s during the batch, {cpu / (wall * cores):.0%} of {cores} cores; "
          f"load average now {os.getloadavg()[0]:.1f}")
    return wall


def kill_halfway_and_resume(subs: Path, book: Path, n: int, args: argparse.Namespace) -> tuple[int, float]:
    proc = subprocess.Popen(batch_cmd(subs, book, args), cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while count(book) < n // 2 and proc.poll() is None:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)
    leftovers = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout.split()
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # our own process group only
    except ProcessLookupError:
        pass
    at_kill = count(book)
    print(f"killed with SIGKILL at {at_kill}/{n} rows; processes of the batch still alive 0.5 s later: "
          f"{len(leftovers)}")
    return at_kill, timed_batch(subs, book, args)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", type=int, default=200, help="submissions (default 200)")
    p.add_argument("--workers", type=int, help="grade-batch workers (default: one per core)")
    p.add_argument("--examples", type=int, default=10, help="hypothesis examples per property (default 10)")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds per call (endless loops; default 2)")
    p.add_argument("--seed", type=int, default=12345)
    p.add_argument("--no-replay", action="store_true", help="let hypothesis draw every example afresh")
    p.add_argument("--no-resume", action="store_true", help="skip the SIGKILL/resume check")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    p.add_argument("--sleepers", type=int, default=0,
                   help="this many submissions are one .py file that sleeps at import (default 0)")
    args = p.parse_args()
    sys.path.insert(0, str(ROOT))

    tmp = Path(tempfile.mkdtemp(prefix="gradkata-bench-"))
    try:
        subs = tmp / "subs"
        kinds = build(subs, args.n, args.sleepers)
        mix = {k: sum(1 for v in kinds.values() if v.split(":")[0] == k)
               for k in ("correct", "mutant", "attack", "stub", "sleeper")}
        print(f"{args.n} submissions on {len(CORE)} katas: {mix}; {os.cpu_count()} cores, "
              f"{args.workers or os.cpu_count()} workers, {args.examples} examples, call timeout {args.timeout} s")
        wall = timed_batch(subs, tmp / "full.sqlite", args)
        print(f"uninterrupted: {wall:.1f} s wall, {wall / args.n:.3f} s per submission, "
              f"{args.n / wall:.2f} submissions/s")
        full = scores(tmp / "full.sqlite")
        wrong = [s for s, k in kinds.items() if k == "correct" and full[s][0] != max(x[0] for x in full.values())]
        print(f"correct submissions below the top score: {len(wrong)}")
        if not args.no_resume:
            at_kill, resume_wall = kill_halfway_and_resume(subs, tmp / "resumed.sqlite", args.n, args)
            resumed = scores(tmp / "resumed.sqlite")
            with sqlite3.connect(tmp / "resumed.sqlite") as db:
                rows = db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
                dups = db.execute("SELECT COUNT(*) FROM (SELECT student FROM results GROUP BY student "
                                  "HAVING COUNT(*) > 1)").fetchone()[0]
            print(f"resume: {resume_wall:.1f} s for the remaining {args.n - at_kill}; rows {rows}, "
                  f"duplicates {dups}, scores identical to the uninterrupted run: {resumed == full}")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
