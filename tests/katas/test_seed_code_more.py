"""The seeds' own code for the katas beyond clip_grad_norm/clip_grad_value/clip_by_norm
(tests/seed_code/), graded through the public API: full interview marks under
every seed, and exactly the parity checks where the seed's code deviates lost,
each with its mistake named.

The tier of a check is read from its suite's ``@pytest.mark.tier`` marker
(unmarked: interview) and cross-checked against ``CheckResult.tier``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from gradkata.diagnose import host_sync_in_loop, parse
from gradkata.katas import get
from gradkata.settings import GradingSettings

SEED_CODE = Path(__file__).resolve().parent.parent / "seed_code"
SEEDS = (1, 2, 3)

# Per kata: the parity checks the seed's code fails, and the mistakes named for them.
DEVIATIONS = {
    "gradient_check": ({"test_theta_of_any_shape"}, {"first-axis-only"}),
    "adaptive_clipper": ({"test_history_keeps_only_the_most_recent_norms"}, {"no-history-size"}),
    "gradient_monitor": ({"test_summary_before_any_step", "test_threshold_line_follows_the_last_max_norm"},
                         {"empty-summary-crashes", "plot-without-threshold"}),
    "train_rnn_with_clipping": ({"test_stops_the_epoch_at_a_nan_loss"}, {"nan-check-after-step"}),
    "clip_by_value": (set(), set()),
    "train_step_with_clipping": (set(), set()),
    "find_clipping_threshold": (set(), set()),
}
SLUGS = sorted(DEVIATIONS)


def tiers_of(slug: str) -> dict[str, str]:
    """Test name -> tier, from the suite's markers (our own suite: trusted code)."""
    spec = importlib.util.spec_from_file_location(f"_tiers_{slug}", get(slug).suite_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = {}
    for name, fn in vars(module).items():
        if name.startswith("test_") and callable(fn):
            marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "tier"]
            out[name] = marks[0].args[0] if marks else "interview"
    return out


@pytest.fixture(scope="module", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def graded(request, grade_warm):
    """Every seed file graded against its own kata, one suite session per Hypothesis seed (on the
    session's warm zygote, tests/conftest.py)."""
    results = grade_warm([SEED_CODE / f"{slug}.py" for slug in SLUGS], SLUGS,
                         GradingSettings(seed=request.param, examples=10))
    return {slug: next(k for k in result.katas if k.slug == slug) for slug, result in zip(SLUGS, results)}


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_seed_code_earns_full_interview_marks(graded, slug):
    tiers = tiers_of(slug)
    kata = graded[slug]
    interview = [c for c in kata.checks if tiers.get(c.name.split("[")[0], "interview") == "interview"]
    assert interview, f"{slug}: no interview checks ran ({kata.reason})"
    lost = [f"{c.name}: {c.message}" for c in interview if c.score < c.max_score]
    assert not lost, lost
    assert all(c.tier == tiers.get(c.name.split("[")[0], "interview") for c in kata.checks)


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_seed_code_loses_exactly_its_parity_deviations_each_named(graded, slug):
    tiers = tiers_of(slug)
    kata = graded[slug]
    failing = {c.name.split("[")[0] for c in kata.checks if c.score < c.max_score}
    expected_checks, expected_mistakes = DEVIATIONS[slug]
    assert failing == expected_checks
    assert all(tiers[name] == "parity" for name in failing)
    named = {d.mistake.split("/", 1)[1] for d in kata.diagnoses if not d.mistake.endswith("host-sync-per-tensor")}
    assert named == expected_mistakes


def test_every_parity_deviation_is_a_catalogued_mistake():
    from gradkata.mistakes import catalogue

    for slug, (_, mistakes) in DEVIATIONS.items():
        ids = {m.name for m in catalogue(get(slug))}
        assert mistakes <= ids, (slug, mistakes - ids)


def test_seed_files_hold_the_katas_functions():
    for slug in SLUGS:
        source = (SEED_CODE / f"{slug}.py").read_text()
        for name in get(slug).functions:
            assert f"def {name}(" in source or f"class {name}" in source, (slug, name)


def test_no_host_sync_advice_on_a_finite_difference_loop():
    """A gradient check reads f's value as a number at every step: .item() in that loop is required,
    not a host-device sync to avoid."""
    from gradkata.diagnose.static import _advises_host_sync

    source = ("def numerical_gradient(f, theta, eps=1e-5):\n    g = theta.clone()\n"
              "    for i in range(theta.numel()):\n        old = theta.view(-1)[i].item()\n"
              "        g.view(-1)[i] = old\n    return g\n")
    assert host_sync_in_loop(parse(source))  # the pattern is there...
    assert not _advises_host_sync(get("gradient_check"))  # ...and the kata does not advise on it
    assert _advises_host_sync(get("adaptive_clipper"))  # a loop over gradients still gets the advice


# --- one parity omission, one check ----------------------------------------------------

# A mutant with exactly one parity omission: the checks it loses, the same under every seed.
ONE_OMISSION = [
    ("gradient_check", "first-axis-only", {"test_theta_of_any_shape"}),
    ("gradient_check", "numpy-only-perturbation", {"test_torch_tensor_theta"}),
    ("adaptive_clipper", "no-history-size", {"test_history_keeps_only_the_most_recent_norms"}),
    ("gradient_monitor", "empty-summary-crashes", {"test_summary_before_any_step"}),
    ("gradient_monitor", "plot-without-threshold", {"test_threshold_line_follows_the_last_max_norm"}),
    ("train_rnn_with_clipping", "nan-check-after-step", {"test_stops_the_epoch_at_a_nan_loss"}),
    ("train_rnn_with_clipping", "no-train-mode", {"test_dropout_model_train_and_eval_modes"}),
    ("adaptive_grad_clip", "unit-over-dim-1", {"test_conv_filters_are_units"}),
    ("clip_by_value", "modified-input", {"test_input_is_not_modified"}),
]


@pytest.mark.slow
@pytest.mark.parametrize("slug,name,lost", ONE_OMISSION, ids=[f"{s}/{n}" for s, n, _ in ONE_OMISSION])
def test_one_parity_omission_costs_its_own_check_under_every_seed(slug, name, lost):
    from gradkata.mistakes import catalogue
    from gradkata.sweep import run_and_diagnose

    kata = get(slug)
    mistake = next(m for m in catalogue(kata) if m.name == name)
    tiers = tiers_of(slug)
    for seed in (1, 2, 3, 4, 5):
        checks, named = run_and_diagnose(kata, mistake.mutant, GradingSettings(seed=seed, examples=10))
        failing = {c.name.split("[")[0] for c in checks if c.score < c.max_score}
        assert failing == lost, (seed, failing)
        assert {tiers[n] for n in lost} == {"parity"} or name == "modified-input"
        assert mistake.id in {m.id for m in named}, (seed, [m.id for m in named])
