"""Tiers: the course policy, per-tier scores, and where they show (report, results.json, CSV, check)."""

from __future__ import annotations

import csv

import pytest

from gradkata._errors import UsageError
from gradkata.katas import get
from gradkata.report import render, results_json
from gradkata.report.terminal import check_listing
from gradkata.results import CheckResult, KataResult, Status, SubmissionResult
from gradkata.runner import checks_of, max_points, tier_points
from gradkata.tiers import CONFIG_ENV, DEFAULT_POLICY, TIERS, TierPolicy, apply, apply_all, passes


def _check(name: str, tier: str, pts: float, passed: bool) -> CheckResult:
    return CheckResult("k", name, pts if passed else 0.0, pts, Status.PASSED if passed else Status.FAILED,
                       "" if passed else f"{name} went wrong", tier=tier)


def _kata(*checks: CheckResult) -> KataResult:
    return KataResult("k", 0.0, 0.0, Status.FAILED, checks=list(checks))


def test_default_policy_counts_interview_and_parity_and_shows_performance():
    assert DEFAULT_POLICY.to_dict() == {"interview": 1.0, "parity": 1.0, "performance": 0.0}
    k = apply(DEFAULT_POLICY, _kata(_check("a", "interview", 3, True), _check("b", "parity", 2, False),
                                    _check("c", "performance", 1, False)))
    assert (k.score, k.max_score) == (3.0, 5.0)
    assert {n: (t.score, t.max_score, t.weight) for n, t in k.tiers.items()} == {
        "interview": (3, 3, 1.0), "parity": (0, 2, 1.0), "performance": (0, 1, 0.0)}
    assert list(k.tiers) == list(TIERS)  # tier order, whatever the checks' order


def test_pass_means_the_interview_tier_is_full():
    full_interview = apply(DEFAULT_POLICY, _kata(_check("a", "interview", 3, True), _check("b", "parity", 2, False)))
    assert full_interview.status is Status.PASSED and passes(full_interview)
    short = apply(DEFAULT_POLICY, _kata(_check("a", "interview", 3, False), _check("b", "parity", 2, True)))
    assert short.status is Status.FAILED


def test_an_error_stays_an_error():
    k = _kata(_check("a", "interview", 3, True))
    k.status = Status.ERROR
    assert apply(DEFAULT_POLICY, k).status is Status.ERROR


def test_weights_scale_the_totals():
    policy = TierPolicy.from_mapping({"parity": 0.5, "performance": 2})
    k = apply(policy, _kata(_check("a", "interview", 4, True), _check("b", "parity", 2, True),
                            _check("c", "performance", 1, False)))
    assert (k.score, k.max_score) == (5.0, 7.0)


def test_toml_config_and_environment(tmp_path, monkeypatch):
    cfg = tmp_path / "course.toml"
    cfg.write_text("[tiers]\ninterview = 2\nparity = 0\n")
    assert TierPolicy.load(cfg).to_dict() == {"interview": 2.0, "parity": 0.0, "performance": 0.0}
    monkeypatch.setenv(CONFIG_ENV, str(cfg))
    assert TierPolicy.resolve().weight("interview") == 2.0
    only = tmp_path / "only.toml"
    only.write_text('[tiers]\ncount = ["interview"]\n')
    assert TierPolicy.resolve(only).to_dict() == {"interview": 1.0, "parity": 0.0, "performance": 0.0}
    monkeypatch.delenv(CONFIG_ENV)
    assert TierPolicy.resolve() == DEFAULT_POLICY


@pytest.mark.parametrize("text,says", [
    ("[tiers]\nprod = 1\n", "unknown tier 'prod'"),
    ("[tiers]\nparity = -1\n", "weight >= 0"),
    ("[tiers]\nparity = 'half'\n", "weight >= 0"),
    ("[tiers]\ncount = ['speed']\n", "count must be a list"),
    ("[tiers\n", "not valid TOML"),
])
def test_bad_config_is_a_usage_error_that_says_how_to_fix(tmp_path, text, says):
    cfg = tmp_path / "course.toml"
    cfg.write_text(text)
    with pytest.raises(UsageError, match=says):
        TierPolicy.load(cfg)
    with pytest.raises(UsageError, match="cannot read"):
        TierPolicy.load(tmp_path / "absent.toml")


def _submission(policy: TierPolicy = DEFAULT_POLICY) -> SubmissionResult:
    graded = _kata(_check("test_core", "interview", 3, True), _check("test_lone_tensor", "parity", 1, False),
                   _check("test_host_sync", "performance", 1, False))
    absent = KataResult("other", 0.0, 0.0, Status.NOT_ATTEMPTED, "no file for this kata")
    absent.tiers = {}
    result = SubmissionResult("sub", [graded], seed=1, grader_version="x")
    return apply_all(policy, result)


def test_terminal_report_shows_each_tier_and_labels_advice():
    text = render(_submission())
    assert "interview 3/3 · parity 0/1 · performance 0/1 (advice, not counted)" in text
    assert "[PASS ]" in text and "[parity] test_lone_tensor" in text
    assert "[performance, advice] test_host_sync" in text
    assert "tiers:" not in text  # the default policy needs no note
    assert "tiers: interview x1, parity x0.5" in render(_submission(TierPolicy.from_mapping({"parity": 0.5})))


def test_results_json_tags_every_test_with_its_tier_and_applies_weights():
    data = results_json(_submission(TierPolicy.from_mapping({"parity": 0.5})))
    tags = {t["name"]: t["tags"] for t in data["tests"]}
    assert tags == {"k: test_core": ["k", "tier:interview"], "k: test_lone_tensor": ["k", "tier:parity"],
                    "k: test_host_sync": ["k", "tier:performance"]}
    by_name = {t["name"]: t for t in data["tests"]}
    assert by_name["k: test_lone_tensor"]["max_score"] == 0.5
    assert by_name["k: test_host_sync"]["max_score"] == 0.0
    assert by_name["k: test_host_sync"]["output"].startswith("Advice (performance tier, no points)")
    assert data["score"] == 3.0 and data["extra_data"]["tiers"]["parity"] == 0.5


def test_results_round_trip_keeps_tiers():
    result = _submission()
    again = SubmissionResult.from_dict(result.to_dict())
    assert again.to_dict() == result.to_dict()
    assert again.katas[0].checks[1].tier == "parity"


def test_csv_has_one_column_per_kata_and_tier(tmp_path):
    from gradkata.batch.gradebook import Gradebook
    from gradkata.export.grades import write_csv

    with Gradebook(tmp_path / "book.sqlite") as book:
        book.save_settings({"katas": ["k"]})
        book.record("ada", "h", _submission(), examples=1, katas=["k"])
        write_csv(book, tmp_path / "grades.csv")
    rows = list(csv.reader((tmp_path / "grades.csv").read_text().splitlines()))
    assert rows[0] == ["student", "k", "k:interview", "k:parity", "k:performance", "total", "max_total"]
    assert rows[1] == ["ada", "3", "3", "0", "0", "3", "4"]


def test_collected_checks_know_their_tier_and_points_add_up():
    kata = get("clip_grad_norm")
    checks = checks_of([kata])[kata.slug]
    assert {c.tier for c in checks} <= set(TIERS) and "interview" in {c.tier for c in checks}
    per_tier = tier_points(kata)
    assert sum(per_tier.values()) == sum(c.points for c in checks)
    assert max_points(kata) == sum(p * DEFAULT_POLICY.weight(t) for t, p in per_tier.items())


def test_check_listing_groups_by_tier():
    text = check_listing(get("clip_grad_norm"))
    heads = [line.strip().split(" ")[0] for line in text.splitlines() if line.startswith("  ") and
             not line.startswith("    ")]
    assert heads and heads[0] == "interview" and heads == sorted(heads, key=TIERS.index)
    assert "test_worked_example (visible)" in text


def test_unknown_tier_marker_is_the_graders_bug():
    from gradkata.tiers import tier_of

    class Marker:
        args = ("production",)

    class Item:
        nodeid = "suite.py::test_x"

        def get_closest_marker(self, name):
            return Marker() if name == "tier" else None

    with pytest.raises(ValueError, match="grader bug"):
        tier_of(Item())


def _advice_check(message: str) -> CheckResult:
    """A performance check as the suites write it: no points, its advice in the message of a passing check."""
    return CheckResult("k", "test_performance_is_measured", 0.0, 0.0, Status.PASSED, message, tier="performance")


@pytest.mark.parametrize("message,shown", [("2 host syncs per call; the reference makes none", "performance: "
                                            "advice only, 1 note"), ("", "performance ✓ (advice only)")])
def test_a_tier_without_points_is_advice_never_zero_out_of_zero(message, shown):
    kata = _kata(_check("test_core", "interview", 3, True), _advice_check(message))
    result = apply_all(DEFAULT_POLICY, SubmissionResult("sub", [kata], seed=1, grader_version="x"))
    text = render(result)
    assert f"interview 3/3 · {shown}" in text and "0/0" not in text
    data = results_json(result)
    assert shown in data["output"] and "0/0" not in data["output"]
    [perf] = [t for t in data["tests"] if "performance" in t["name"]]
    assert perf["max_score"] == 0.0
    assert perf["output"] == message
    listing = check_listing(get("clip_grad_norm"))
    assert "performance (advice, no points by default): advice only" in listing
    assert "advice  test_performance_is_measured" in listing and "0 pt" not in listing
