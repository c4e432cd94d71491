"""The performance tier's figures for five ways to clip by global norm, three runs each.

Counts what each implementation makes PyTorch do (gradkata.worker.harness._perf,
the same code the sandboxed child runs for a submission): host syncs, aten ops
at k and 2k parameters (shown as a formula in k), bytes newly allocated
relative to the gradients' bytes. The implementations are trusted code run in
this process: the seed's interview reference, its "memory-efficient" version,
a flatten-and-cat version, a foreach version, and torch.nn.utils.clip_grad_norm_.

    python benchmarks/perf_table.py [--runs 3] [--sandbox]

Exits 1 if a run's figures differ from the first run's (the counts must be deterministic).
``--sandbox`` also grades the four non-torch versions as submissions, through the
sandboxed worker, and checks that the "your code" line of the performance note
(counted in the child) shows the same figures (torch itself would be refused there
for delegating).
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
import tempfile
from pathlib import Path

import torch

from gradkata.katas import get
from gradkata.judge import observe
from gradkata.perf import PROFILE, summary
from gradkata.settings import GradingSettings


SEED_CODE = Path(__file__).resolve().parents[1] / "tests" / "seed_code"


def _seed(file: str):
    """The seed's function as the seed writes it: the fixture in tests/seed_code/ (one copy of it)."""
    namespace: dict = {}
    path = SEED_CODE / file
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace["clip_grad_norm"]


seed_interview = _seed("clip_grad_norm.py")  # the interview question's reference
seed_memory_efficient = _seed("clip_grad_norm__efficient.py")  # its "more memory-efficient" version


def flatten_cat(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.cat([g.flatten() for g in grads]).norm()
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef)
    return total


def foreach(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    torch._foreach_mul_(grads, torch.clamp(max_norm / (total + 1e-6), max=1.0))
    return total


VARIANTS = {"seed_interview": seed_interview, "seed_memory_efficient": seed_memory_efficient,
            "flatten_cat": flatten_cat, "foreach": foreach, "torch": torch.nn.utils.clip_grad_norm_}


def table() -> list[str]:
    kata = get("clip_grad_norm")
    scenario = {"profile": dict(PROFILE), "max_norm": 1.0}
    rows = []
    for name, fn in VARIANTS.items():
        s = summary(observe(kata, {"clip_grad_norm": fn}, scenario))
        rows.append(f"{name:22} {s['syncs']:>10} {s['ops']:>10} {s['bytes']:>8}")
    return rows


def through_the_sandbox() -> dict[str, str]:
    """The figures the sandboxed child counted for each non-torch version, graded as a submission."""
    from gradkata.api import grade

    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, fn in VARIANTS.items():
            if name == "torch":
                continue
            folder = Path(tmp) / name
            folder.mkdir()
            body = inspect.getsource(fn).replace(f"def {fn.__name__}(", "def clip_grad_norm(", 1)
            (folder / "clip_grad_norm.py").write_text("import torch\n\n\n" + body)
            paths.append(folder)
        out = {}
        for result in grade(paths, ["clip_grad_norm"], GradingSettings(seed=1, examples=5)):
            [kata] = result.katas
            notes = [c.message for c in kata.checks if c.name == "test_performance_is_measured"]
            found = re.search(r"your code: (\S+) host syncs, (\S+) ops, (\S+) extra bytes", " ".join(notes))
            out[Path(result.submission).name] = " ".join(found.groups()) if found else f"no note ({kata.reason})"
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sandbox", action="store_true", help="also count in the sandboxed worker and compare")
    args = parser.parse_args(argv)
    first = None
    for run in range(args.runs):
        rows = table()
        print(f"run {run + 1}: {'implementation':22} {'host syncs':>10} {'aten ops':>10} {'bytes':>8}")
        print("\n".join(f"       {r}" for r in rows))
        if first is None:
            first = rows
        elif rows != first:
            print("the figures differ from run 1", file=sys.stderr)
            return 1
    print(f"identical across {args.runs} runs (k = {PROFILE['k']} parameters of {PROFILE['numel']} float32 each)")
    if args.sandbox:
        here = {row.split()[0]: " ".join(row.split()[1:]) for row in first or []}
        differ = 0
        for name, figures in through_the_sandbox().items():
            same = figures == here[name]
            differ += not same
            print(f"sandboxed child, {name:22} {figures:22} {'same' if same else 'DIFFERENT from ' + here[name]}")
        if differ:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
