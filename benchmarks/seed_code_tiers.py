"""The seeds' own code (tests/seed_code/) graded per tier under several Hypothesis seeds.

Usage: python benchmarks/seed_code_tiers.py [SLUG ...] [--seeds 1,2,3]

Prints one row per seed file and seed: interview points earned / available,
parity points earned / available, and the mistakes and advice named. The tier
of a check is read from its suite's ``@pytest.mark.tier(...)`` marker
(unmarked: interview), so the table needs nothing from the report.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import importlib.util
import time
from pathlib import Path

from gradkata.api import grade
from gradkata.katas import get

SEED_CODE = Path(__file__).resolve().parent.parent / "tests" / "seed_code"


def tiers_of(slug: str) -> dict[str, str]:
    """Test name -> tier, from the suite's markers (trusted code: our own suite)."""
    kata = get(slug)
    spec = importlib.util.spec_from_file_location(f"_tiers_{slug}", kata.suite_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = {}
    for name, fn in vars(module).items():
        if name.startswith("test_") and callable(fn):
            marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "tier"]
            out[name] = marks[0].args[0] if marks else "interview"
    return out


def by_tier(kata_result) -> dict[str, tuple[float, float]]:
    tiers = tiers_of(kata_result.slug)
    out: dict[str, tuple[float, float]] = {}
    for check in kata_result.checks:
        tier = tiers.get(check.name.split("[")[0], "interview")
        got, of = out.get(tier, (0.0, 0.0))
        out[tier] = (got + check.score, of + check.max_score)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("slugs", nargs="*")
    ap.add_argument("--seeds", default="1,2,3")
    args = ap.parse_args()
    slugs = args.slugs or sorted(p.stem for p in SEED_CODE.glob("*.py") if not p.stem.startswith("_"))
    print(f"{'seed file':28} {'seed':>4} {'interview':>10} {'parity':>8} {'total':>8}  named")
    for slug in slugs:
        for seed in (int(s) for s in args.seeds.split(",")):
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):  # the in-process references print
                [result] = grade([SEED_CODE / f"{slug}.py"], [slug], seed=seed)
            [kr] = result.katas
            tiers = by_tier(kr)
            iv, pa = tiers.get("interview", (0, 0)), tiers.get("parity", (0, 0))
            named = ", ".join(d.mistake.split("/", 1)[1] for d in kr.diagnoses) or "-"
            print(f"{slug:28} {seed:>4} {iv[0]:>4g}/{iv[1]:<5g} {pa[0]:>3g}/{pa[1]:<4g} "
                  f"{kr.score:>3g}/{kr.max_score:<4g}  {named}  ({time.perf_counter() - t0:.1f}s)")


if __name__ == "__main__":
    main()
