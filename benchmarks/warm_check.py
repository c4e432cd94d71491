"""`gradkata check` cold (--no-server) and warm, and `gradkata watch`'s save-to-result time on a warm grader.

    python benchmarks/warm_check.py [--runs 5] [--slug clip_grad_norm]

Uses a private runtime folder of its own (a fresh warm grader, stopped at the
end), so it neither uses nor disturbs the caller's. Prints medians over
``--runs`` runs; the first warm run (which starts the grader) is reported apart.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _check(slug: str, path: Path, env: dict, *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gradkata", "check", slug, str(path), *extra], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _watch_latencies(slug: str, path: Path, env: dict, runs: int) -> list[float]:
    proc = subprocess.Popen([sys.executable, "-m", "gradkata", "watch", slug, str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore

    def wait_for(marker: str) -> None:
        while marker not in lines.get(timeout=120):
            pass

    try:
        wait_for("watching")
        text = path.read_text()
        out = []
        for i in range(runs + 1):
            started = time.perf_counter()
            path.write_text(text + f"\n# save {i}\n")
            wait_for("watching for the next save")
            if i:  # the first save may pay a cold start
                out.append(time.perf_counter() - started)
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--slug", default="clip_grad_norm")
    args = parser.parse_args()
    runtime = Path(tempfile.mkdtemp(prefix="gk-bench-", dir="/tmp"))
    runtime.chmod(0o700)
    work = Path(tempfile.mkdtemp(prefix="gk-bench-ex-"))
    exercise = work / f"{args.slug}.py"
    shutil.copy(ROOT / "exercises" / f"{args.slug}.py", exercise)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    env.pop("GRADKATA_NO_SERVER", None)
    try:
        cold = [_check(args.slug, exercise, env, "--no-server") for _ in range(args.runs)]
        first = _check(args.slug, exercise, env)
        warm = [_check(args.slug, exercise, env) for _ in range(args.runs)]
        saves = _watch_latencies(args.slug, exercise, env, args.runs)
        print(f"check {args.slug} --no-server (cold): median {statistics.median(cold):.2f} s of {args.runs}")
        print(f"check {args.slug} starting the warm grader: {first:.2f} s")
        print(f"check {args.slug} on the warm grader: median {statistics.median(warm):.3f} s of {args.runs}")
        print(f"watch, save to result on the warm grader: median {statistics.median(saves):.3f} s of {len(saves)}")
    finally:
        from gradkata.sockets import Client

        try:
            with Client(runtime / "gradkata" / "grader.sock", timeout_s=30) as client:
                client.ask({"op": "stop"})
        except OSError:
            pass
        shutil.rmtree(runtime, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
