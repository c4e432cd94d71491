"""The guard's Landlock rules: everything readable except the denied files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gradkata.worker.confine import landlock


def _grants_read(rules: list[tuple[str, int]], target: str) -> list[str]:
    """Rules that would let ``target`` be read (a rule on it or on a folder above it)."""
    return [p for p, rights in rules
            if rights & landlock.READ_FILE and (p == target or target.startswith(p.rstrip(os.sep) + os.sep))]


@pytest.mark.parametrize("root", ["tree", "/"])
def test_denied_file_alone_is_left_out(tmp_path: Path, root: str) -> None:
    deep = tmp_path / "site" / "torch" / "nn" / "utils"
    (deep / "__pycache__").mkdir(parents=True)
    for name in ("clip_grad.py", "rnn.py", "__pycache__/clip_grad.cpython-311.pyc", "__pycache__/rnn.pyc"):
        (deep / name).write_text("x")
    (tmp_path / "site" / "numpy").mkdir()
    (tmp_path / "site" / "link").symlink_to(deep)  # another way in: must be split too, not allowed whole
    denied = {str(deep / "clip_grad.py"), str(deep / "__pycache__" / "clip_grad.cpython-311.pyc")}
    rules = landlock.allow_except([str(tmp_path / "site") if root == "tree" else "/"], denied)
    for path in denied:
        assert _grants_read(rules, path) == [], path
    for path in (deep / "rnn.py", deep / "__pycache__" / "rnn.pyc", tmp_path / "site" / "numpy"):
        assert _grants_read(rules, str(path)), path
    assert (str(deep), landlock.READ_DIR) in rules  # listed, not read
