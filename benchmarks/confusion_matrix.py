"""Confusion matrix of the mistake catalogue: each mutant through its kata's hidden
suite, then diagnosed; prints mutant -> named mistakes and a summary.

    .venv/bin/python benchmarks/confusion_matrix.py [SLUG ...] [--examples N] [--seed S]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gradkata.diagnose import same_mistake  # noqa: E402
from gradkata.sweep import run_and_diagnose  # noqa: E402
from gradkata.katas import all_katas, get  # noqa: E402
from gradkata.mistakes import catalogue  # noqa: E402
from gradkata.results import Status  # noqa: E402
from gradkata.settings import GradingSettings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("slugs", nargs="*")
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    katas = [get(s) for s in args.slugs] if args.slugs else all_katas()
    settings = GradingSettings(seed=args.seed, examples=args.examples)
    exact = ambiguous = wrong = missed = slipped = 0
    started = time.perf_counter()
    for kata in katas:
        print(f"== {kata.slug}")
        ref_checks, ref_named = run_and_diagnose(kata, kata.reference(), settings)
        print(f"   (reference: {sum(c.status is Status.PASSED for c in ref_checks)}/{len(ref_checks)} checks, "
              f"named {[m.id for m in ref_named]})")
        for mistake in catalogue(kata):
            checks, named = run_and_diagnose(kata, mistake.mutant, settings)
            failing = sum(c.status is not Status.PASSED for c in checks)
            ids = [m.id for m in named]
            right = [i for i in ids if same_mistake(kata, i, mistake.id)]
            if failing == 0:
                slipped += 1
                verdict = "SLIPS THROUGH THE SUITE"
            elif ids and len(right) == len(ids):
                exact += 1
                verdict = "exact"
            elif right:
                ambiguous += 1
                verdict = "ambiguous"
            elif ids:
                wrong += 1
                verdict = "WRONG"
            else:
                missed += 1
                verdict = "MISSED"
            names = ", ".join(i.split("/", 1)[1] for i in ids) or "-"
            print(f"   {mistake.name:30} fails {failing:2}/{len(checks):2}  -> {names:40} {verdict}")
    total = exact + ambiguous + wrong + missed + slipped
    print(f"\nmutants {total}: diagnosed exactly {exact}, ambiguous {ambiguous}, wrong {wrong}, missed {missed}, "
          f"not caught by the suite {slipped} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
