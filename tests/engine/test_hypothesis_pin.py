"""The same seed draws the same examples, whatever local modules the process has imported."""

from __future__ import annotations

import importlib
import sys

from hypothesis import given, settings, strategies as st

from gradkata.hypothesis_pin import pin_generation


def _draws() -> list[int]:
    seen: list[int] = []

    @settings(max_examples=300, database=None, derandomize=True, deadline=None)
    @given(st.integers(0, 10**12))
    def record(x):
        seen.append(x)

    record()
    return seen


def test_draws_do_not_depend_on_imported_modules(tmp_path, monkeypatch):
    pin_generation()
    before = _draws()
    # A local module full of distinctive literals: unpinned, Hypothesis would start drawing them.
    magic = [987_654_321_000 + i for i in range(500)]
    (tmp_path / "gradkata_pin_probe.py").write_text(f"MAGIC = {tuple(magic)}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("gradkata_pin_probe")
    try:
        after = _draws()
    finally:
        sys.modules.pop("gradkata_pin_probe", None)
    assert not set(magic) & set(after)
    assert after == before
