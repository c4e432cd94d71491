"""What a batch of the five core katas cannot go below on this machine. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/batch_floor.py [-n 200] [--timeout 2] [--runs 5]

The grading machinery (sandbox, suites, judging, diagnosis) costs CPU on top of
two things no grader of sandboxed submissions avoids:

- the submissions' own calls: every scenario a kata's hidden suite asks of a
  correct submission, run through the kata's driver on the reference solution,
  in this process, with no sandbox, no pytest and no comparison (the calls a
  batch worker's children make, recorded by grading one reference submission
  with the benchmark's seed and example count);
- one sandboxed child per group of katas sharing a child (two for the five
  core katas): fork of the warm zygote, confinement, import, exit, in
  machine CPU per child;
- the endless loops of `batch_grading.py`'s mix, which burn the call timeout.

The floor of the batch is their CPU over the machine's cores; the batch's
measured wall time (batch_grading.py) over this floor is the machinery's share.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from batch_grading import CORE, build, machine_cpu  # noqa: E402

from gradkata import prefetch  # noqa: E402
from gradkata.api import grade_many, select  # noqa: E402
from gradkata.batch.replay import Replay  # noqa: E402
from gradkata.doctor import spawn_cost_ms  # noqa: E402
from gradkata.pool import Limits, Zygote  # noqa: E402
from gradkata.settings import GradingSettings  # noqa: E402
from gradkata.worker import wire  # noqa: E402


def _reference_functions(slug: str, names: tuple[str, ...]) -> dict:
    spec = importlib.util.spec_from_file_location(f"floor_{slug}", ROOT / "solutions" / f"{slug}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: getattr(module, name) for name in names}


def _record_scripts(zygote: Zygote, folder: Path, settings: GradingSettings) -> None:
    """Grade one reference submission twice: the first complete run records each kata's calls."""
    sub = folder / "reference"
    sub.mkdir()
    for slug in CORE:
        (sub / f"{slug}.py").write_text((ROOT / "solutions" / f"{slug}.py").read_text())
    chosen = select(CORE)
    grade_many(zygote, [(0, sub), (1, sub)], chosen, lambda i, r: None, settings, plugins=[Replay()],
               share_children=True)


def _calls_cpu(runs: int) -> dict[str, tuple[int, float]]:
    """Per kata: (calls, median CPU seconds) of a correct submission's recorded calls."""
    import torch

    from gradkata.worker import harness

    torch.set_num_threads(1)  # as in the zygote and its children
    out = {}
    for kata in select(CORE):
        scripts = [s for k, s in prefetch._SCRIPTS.items() if k[0] == kata.slug]
        if not scripts:
            continue
        requests = wire.decode(scripts[0].message)["requests"]
        funcs = _reference_functions(kata.slug, kata.functions)
        times = []
        for _ in range(runs + 1):
            t0 = time.process_time()
            for r in requests:
                harness.get(r["harness"]).run(funcs, r["scenario"])
            times.append(time.process_time() - t0)
        out[kata.slug] = (len(requests), statistics.median(times[1:]))
    return out


def _child_cpu(zygote: Zygote, n: int) -> float:
    """Machine CPU seconds per sandboxed child that imports a trivial module and exits."""
    time.sleep(0.3)
    cpu = machine_cpu()
    spawn_cost_ms(zygote, n)
    time.sleep(0.3)  # the kernel's clean-up of the last child
    return (machine_cpu() - cpu) / n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", type=int, default=200, help="submissions in the batch (default 200)")
    p.add_argument("--timeout", type=float, default=2.0, help="batch_grading.py's call timeout (default 2)")
    p.add_argument("--examples", type=int, default=10)
    p.add_argument("--seed", type=int, default=12345)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--children", type=int, default=2, help="children per submission (default 2: shared)")
    args = p.parse_args()
    settings = GradingSettings(seed=args.seed, examples=args.examples)
    with tempfile.TemporaryDirectory() as tmp, Zygote(Limits(call_s=args.timeout),
                                                      drivers=[k.harness for k in select(CORE)]) as zygote:
        # batch_grading.py's own mix of correct submissions, mutants, attacks and stubs.
        mix = list(build(Path(tmp) / "class", args.n).values())
        loops = mix.count("attack: endless loop")
        _record_scripts(zygote, Path(tmp), settings)
        # A batch's zygote forks hundreds of children: measure it as it is after its first
        # 16, with its heap in huge pages (gradkata/worker/hugepages.py), unless that is off.
        _child_cpu(zygote, 20)
        time.sleep(3)
        child_s = statistics.median(_child_cpu(zygote, 20) for _ in range(3))
    calls = _calls_cpu(args.runs)
    cores = os.cpu_count() or 1
    print(f"{cores} cores, load {os.getloadavg()[0]:.1f}; seed {args.seed}, {args.examples} examples")
    print("a correct submission's own calls (reference solutions, driver only, no sandbox, median):")
    for slug, (n, s) in calls.items():
        print(f"  {slug:26} {n:4d} calls  {s * 1e3:6.1f} ms CPU")
    own = sum(s for _, s in calls.values())
    print(f"  {'all five':26} {sum(n for n, _ in calls.values()):4d} calls  {own * 1e3:6.1f} ms CPU")
    print(f"one sandboxed child (fork, confinement, trivial import, exit): {child_s * 1e3:.1f} ms machine CPU")
    # Every submission but the stubs runs (about) a correct one's calls; mutants and attacks stop
    # early on their failing kata, so this slightly overstates them and understates nothing else.
    running = sum(1 for kind in mix if kind.split(":")[0] in ("correct", "mutant", "attack"))
    parts = {"submissions' own calls": running * own, "children": args.n * args.children * child_s,
             "endless loops": loops * args.timeout}
    total = sum(parts.values())
    print(f"floor of {args.n} submissions ({running} running a correct one's calls, {loops} endless loops "
          f"of {args.timeout:g} s): " + ", ".join(f"{k} {v:.1f} s" for k, v in parts.items()))
    print(f"  = {total:.1f} CPU s, {total / cores:.1f} s wall on {cores} cores with no grading machinery at all")


if __name__ == "__main__":
    main()
