"""The seeds' own code, graded as the seeds write it: one line per fixture and seed.

Reads every ``tests/seed_code/rows_*.toml`` (and every other fixture named
``<slug>.py`` after its kata) and grades each row's file through
the real worker (`gradkata grade FILE --kata SLUG --seed S`), printing the
kata's score, its points per tier and the mistakes and advice named.

    .venv/bin/python benchmarks/seed_code.py [--seeds 1 2 3] [--examples 30] [--kata SLUG ...]
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradkata.api import grade  # noqa: E402
from gradkata.report.terminal import tier_line  # noqa: E402
from gradkata.results import Status  # noqa: E402
from gradkata.settings import GradingSettings  # noqa: E402

FOLDER = ROOT / "tests" / "seed_code"


def rows(katas: list[str] | None) -> list[dict]:
    """The rows_*.toml tables, then every other fixture named after its kata (``<slug>.py``)."""
    from gradkata.katas import SLUGS

    out = []
    for table in sorted(FOLDER.glob("rows_*.toml")):
        out += tomllib.loads(table.read_text())["row"]
    listed = {r["file"] for r in out}
    out += [{"file": f.name, "kata": f.stem} for f in sorted(FOLDER.glob("*.py"))
            if f.stem in SLUGS and f.name not in listed]
    return [r for r in out if not katas or r["kata"] in katas]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--examples", type=int, default=30)
    parser.add_argument("--kata", action="append")
    args = parser.parse_args(argv)
    table = rows(args.kata)
    katas = sorted({r["kata"] for r in table})
    started = time.perf_counter()
    print(f"{'file':32} {'kata':18} seed  score   tiers; failing parity checks; named")
    full = 0
    for seed in args.seeds:
        results = grade([FOLDER / r["file"] for r in table], katas, GradingSettings(seed=seed, examples=args.examples))
        for r, res in zip(table, results):
            k = next(k for k in res.katas if k.slug == r["kata"])
            tiers = tier_line(k)
            lost = [c.name for c in k.checks if c.tier != "interview" and c.status is not Status.PASSED]
            named = [("advice:" if d.advice else "") + d.mistake.split("/", 1)[1] for d in k.diagnoses]
            interview = k.tiers.get("interview")
            full += bool(interview and interview.score == interview.max_score)
            print(f"{r['file']:32} {r['kata']:18} {seed:4}  {k.score:g}/{k.max_score:g}  {tiers}; "
                  f"{', '.join(lost) or '-'}; {', '.join(named) or '-'}")
    print(f"\ninterview tier full: {full}/{len(table) * len(args.seeds)} "
          f"({time.perf_counter() - started:.0f} s, {args.examples} examples per property)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
