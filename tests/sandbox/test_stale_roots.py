"""Temp folders left by a grader killed with SIGKILL are removed by the next run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gradkata.pool import OWNER_FILE, _start_time, remove_stale_roots


def _root(tmp: Path, name: str, owner: str | None) -> Path:
    root = tmp / f"gradkata-{name}"
    (root / "jobs").mkdir(parents=True)
    if owner is not None:
        (root / OWNER_FILE).write_text(owner)
    return root


def test_only_folders_of_dead_owners_are_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = _root(tmp_path, "dead", f"{dead.pid} {_start_time(os.getpid())}")
    reused = _root(tmp_path, "reused", f"{os.getpid()} 1")  # our pid, but another start time: a reused pid
    alive = _root(tmp_path, "alive", f"{os.getpid()} {_start_time(os.getpid())}")
    unowned = _root(tmp_path, "unowned", None)
    removed = remove_stale_roots(str(tmp_path))
    assert sorted(removed) == sorted([gone, reused])
    assert alive.exists() and unowned.exists() and not gone.exists() and not reused.exists()


def test_a_sigkilled_grader_leaves_a_folder_the_next_run_removes(tmp_path: Path) -> None:
    code = ("import os, signal, tempfile; tempfile.tempdir = %r\n"
            "from gradkata.pool import _new_root\n"
            "print(_new_root(), flush=True); os.kill(os.getpid(), signal.SIGKILL)\n" % str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    left = Path(proc.stdout.strip())
    assert proc.returncode == -9 and left.is_dir()
    assert remove_stale_roots(str(tmp_path)) == [left] and not left.exists()
