"""The seeds' own code earns full interview marks, under every seed.

Each row of ``tests/seed_code/rows_*.toml`` names a fixture (the seeds' code as
they print it, renamed only where the kata's name differs), its kata and,
optionally, the parity checks it fails: where the seed's code deviates from
PyTorch's full contract, exactly those and no others.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gradkata.results import Status
from gradkata.settings import GradingSettings

FOLDER = Path(__file__).parents[1] / "seed_code"
SEEDS = (1, 2, 3)


def rows() -> list[dict]:
    out = []
    for table in sorted(FOLDER.glob("rows_*.toml")):
        out += tomllib.loads(table.read_text())["row"]
    return out


ROWS = rows()
IDS = [r["file"] for r in ROWS]


@pytest.fixture(scope="module")
def graded(grade_warm) -> dict[int, dict[str, object]]:
    """Every row's file, graded through the real worker once per seed (one session per seed, on the
    session's warm zygote: tests/conftest.py)."""
    katas = sorted({r["kata"] for r in ROWS})
    out: dict[int, dict[str, object]] = {}
    for seed in SEEDS:
        results = grade_warm([FOLDER / r["file"] for r in ROWS], katas, GradingSettings(seed=seed, examples=30))
        out[seed] = {r["file"]: next(k for k in res.katas if k.slug == r["kata"]) for r, res in zip(ROWS, results)}
    return out


def test_every_row_names_a_fixture_and_a_kata():
    from gradkata.katas import SLUGS

    assert ROWS
    for r in ROWS:
        assert (FOLDER / r["file"]).is_file(), r
        assert r["kata"] in SLUGS, r


@pytest.mark.slow
@pytest.mark.parametrize("row", ROWS, ids=IDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_seed_code_earns_full_interview_marks(graded, row, seed):
    k = graded[seed][row["file"]]
    interview = k.tiers["interview"]
    failing = [f"{c.name}: {c.message}" for c in k.checks if c.tier == "interview" and c.status is not Status.PASSED]
    assert interview.score == interview.max_score > 0, failing
    assert k.status is Status.PASSED, (k.status, k.reason)


@pytest.mark.slow
@pytest.mark.parametrize("row", [r for r in ROWS if "parity_fails" in r], ids=[r["file"] for r in ROWS
                                                                                if "parity_fails" in r])
@pytest.mark.parametrize("seed", SEEDS)
def test_seed_code_parity_findings_are_exactly_the_listed_ones(graded, row, seed):
    k = graded[seed][row["file"]]
    failing = sorted(c.name for c in k.checks if c.tier != "interview" and c.status is not Status.PASSED)
    assert failing == sorted(row["parity_fails"])
