"""Figures for clip_grad_norm_distributed. Prints them; asserts nothing.

    .venv/bin/python benchmarks/distributed.py [--examples N] [--runs 5]

1. The reference graded in the sandbox: score per tier, and the unsharded-torch
   agreement on world sizes 1, 2 and 4 (one call each, in a confined child).
2. Every catalogued mutant through the hidden suite (trusted side, ranks as
   threads with real gloo groups, as in the child): score per tier and the
   mistake the diagnosis names.
3. The deadlock verdict: how long a call whose rank skips the collective takes
   in the confined child, against Limits.collective_s.
4. Grading cost per submission: ``--runs`` copies of the reference graded in one
   session (one zygote), per-kata elapsed time, first and median, next to
   clip_grad_norm's.
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

from gradkata.api import grade  # noqa: E402
from gradkata.katas import get  # noqa: E402
from gradkata.mistakes import catalogue  # noqa: E402
from gradkata.pool import Limits, Zygote  # noqa: E402
from gradkata.results import Status  # noqa: E402
from gradkata.sweep import run_and_diagnose  # noqa: E402
from gradkata.settings import GradingSettings  # noqa: E402

SLUG = "clip_grad_norm_distributed"


def _tiers(checks) -> str:
    out = {}
    for c in checks:
        got, full = out.get(c.tier, (0.0, 0.0))
        out[c.tier] = (got + c.score, full + c.max_score)
    return ", ".join(f"{tier} {got:g}/{full:g}" for tier, (got, full) in sorted(out.items()))


def reference_in_sandbox(examples: int) -> None:
    solution = ROOT / "solutions" / f"{SLUG}.py"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / solution.name).write_text(solution.read_text())
        [sub] = grade([Path(tmp)], [SLUG], GradingSettings(seed=1, examples=examples))
    [result] = sub.katas
    print(f"reference, sandboxed: {result.score:g}/{result.max_score:g} ({_tiers(result.checks)}); "
          f"layers: {', '.join(sub.sandbox)}")
    from gradkata.judge import observe
    from gradkata.katas.clip_grad_norm_distributed.suite import scenario

    kata = get(SLUG)
    with Zygote(Limits(), drivers=[kata.harness]) as z:
        for world in (1, 2, 4):
            s = scenario([[[3.0 + r, -4.0], [1.0 * r]] for r in range(world)], replicated=[[2.0, 0.5]], max_norm=3.0)
            child = z.spawn(solution.read_text(), module="sub", functions=list(kata.functions), harness=kata.harness)
            child.handshake()
            t0 = time.perf_counter()
            reply = child.call(kata.harness, s)
            took = time.perf_counter() - t0
            child.close()
            torch_says = observe(kata, kata.oracle(), s)
            ours = [float(x["value"]) for x in reply["obs"]["returned"]]
            theirs = float(torch_says["returned"][0]["value"])
            print(f"  world size {world}: every rank returns {ours[0]:.6f} (unsharded clip_grad_norm_: "
                  f"{theirs:.6f}), one call {took * 1000:.0f} ms")


def mutants(examples: int) -> None:
    kata = get(SLUG)
    print("mutants (hidden suite, trusted side):")
    for mistake in catalogue(kata):
        t0 = time.perf_counter()
        checks, named = run_and_diagnose(kata, mistake.mutant, GradingSettings(seed=1, examples=examples))
        got, full = sum(c.score for c in checks), sum(c.max_score for c in checks)
        failed = sum(c.status is not Status.PASSED for c in checks)
        print(f"  {mistake.name:30} {got:4g}/{full:g} ({_tiers(checks)}), {failed} checks failed, named: "
              f"{', '.join(m.name for m in named) or '-'} [{time.perf_counter() - t0:.1f} s]")


def deadlock() -> None:
    kata = get(SLUG)
    solution = (ROOT / "solutions" / f"{SLUG}.py").read_text()
    skips = solution.replace("    total = _local(sharded, norm_type)\n",
                             "    if not with_grad:\n        return torch.zeros(())\n"
                             "    total = _local(sharded, norm_type)\n", 1)
    from gradkata.katas.clip_grad_norm_distributed.suite import scenario

    limits = Limits()
    with Zygote(limits, drivers=[kata.harness]) as z:
        child = z.spawn(skips, module="sub", functions=list(kata.functions), harness=kata.harness)
        child.handshake()
        t0 = time.perf_counter()
        reply = child.call(kata.harness, scenario([[[3.0, 4.0]], [None], [[12.0]], []], max_norm=6.5))
        took = time.perf_counter() - t0
        t1 = time.perf_counter()
        after = child.call(kata.harness, scenario([[[3.0, 4.0]], [[12.0]]], max_norm=6.5))
        next_call = time.perf_counter() - t1
        child.close()
    print(f"deadlock verdict: {reply['obs']} in {took:.2f} s (collective_s {limits.collective_s:g} s); "
          f"next call on the same child {'ok' if after['ok'] else 'FAILED'} in {next_call * 1000:.0f} ms")


def cost(runs: int, examples: int) -> None:
    """Each kata graded alone (KataResult.elapsed_s is the submission's time), one session per kata."""
    print(f"grading cost per submission ({runs} copies of the reference, one session per kata, "
          f"{examples} examples):")
    for slug in ("clip_grad_norm", SLUG):
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for i in range(runs):
                folder = Path(tmp) / f"s{i}"
                folder.mkdir()
                (folder / f"{slug}.py").write_text((ROOT / "solutions" / f"{slug}.py").read_text())
                paths.append(folder)
            t0 = time.perf_counter()
            subs = grade(paths, [slug], GradingSettings(seed=1, examples=examples))
            total = time.perf_counter() - t0
        times = [sub.elapsed_s for sub in subs]
        print(f"  {slug:28} first {times[0]:.2f} s, median {statistics.median(times):.2f} s "
              f"(all: {', '.join(f'{t:.2f}' for t in times)}; {total:.1f} s with the zygote's start)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["reference", "mutants", "deadlock", "cost"])
    args = parser.parse_args()
    if args.only:
        {"reference": lambda: reference_in_sandbox(args.examples), "mutants": lambda: mutants(args.examples),
         "deadlock": deadlock, "cost": lambda: cost(args.runs, args.examples)}[args.only]()
        return
    reference_in_sandbox(args.examples)
    mutants(args.examples)
    deadlock()
    cost(args.runs, args.examples)


if __name__ == "__main__":
    main()
