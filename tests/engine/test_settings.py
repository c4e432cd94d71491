"""GradingSettings: one value for seed, examples, worked-examples-only and the tier policy."""

from __future__ import annotations

import dataclasses

import pytest

from gradkata import GradingSettings
from gradkata.settings import DEFAULT_EXAMPLES
from gradkata.tiers import DEFAULT_POLICY, TierPolicy


def test_defaults_and_create():
    s = GradingSettings(seed=7)
    assert (s.seed, s.examples, s.visible_only, s.policy) == (7, DEFAULT_EXAMPLES, False, DEFAULT_POLICY)
    fresh = GradingSettings.create()
    assert fresh.seed >= 1 and fresh.examples == DEFAULT_EXAMPLES
    # A seed of 0 is a seed (not "none given"), as `--seed 0` always was.
    assert GradingSettings.create(0, 5).seed == 0
    policy = TierPolicy.from_mapping({"parity": 0.5})
    assert GradingSettings.create(3, policy=policy).policy is policy


def test_it_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        GradingSettings(seed=1).seed = 2  # type: ignore[misc]


def test_the_request_fields_round_trip_and_fall_back_as_the_server_did():
    s = GradingSettings(seed=11, examples=4, visible_only=True)
    assert GradingSettings.from_request(s.request(), seed=99) == s
    # A request naming no seed (or examples) gets the server's seed and the default count.
    assert GradingSettings.from_request({"seed": None, "examples": None}, seed=99) == GradingSettings(99)
    assert GradingSettings.from_request({}, seed=5) != GradingSettings(6)


def test_settings_are_hashable_and_equal_settings_hash_alike():
    a = GradingSettings(3, 5, policy=TierPolicy.from_mapping({"parity": 0.5}))
    b = GradingSettings(3, 5, policy=TierPolicy.from_mapping({"parity": 0.5}))
    assert a == b and hash(a) == hash(b) and len({a, b, GradingSettings(3, 5)}) == 2
