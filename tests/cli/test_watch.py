"""`gradkata watch`: every save of the exercise file is checked again, and the new result printed."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gradkata.katas import get
from gradkata.katas._kata import PROJECT_ROOT

SLUG = "clip_by_norm"


def _reader(proc: subprocess.Popen) -> queue.Queue:
    """stdout's lines, as they come (a thread: a pipe read with a deadline)."""
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _lines_until(lines: queue.Queue, marker: str, timeout_s: float) -> list[str]:
    """Lines up to and including the first containing ``marker``."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if marker in line:
            return seen
    raise AssertionError(f"no {marker!r} within {timeout_s} s; got:\n{''.join(seen)}")


@pytest.mark.slow
def test_a_save_is_checked_and_its_result_printed(tmp_path: Path) -> None:
    exercise = tmp_path / f"{SLUG}.py"
    exercise.write_text(get(SLUG).render_stub())
    # In this process's own grader (GRADKATA_NO_SERVER, set for the tests): no server outlives the test.
    proc = subprocess.Popen([sys.executable, "-m", "gradkata", "watch", SLUG, str(exercise)], cwd=PROJECT_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "GRADKATA_NO_SERVER": "1", "PYTHONFAULTHANDLER": "1"})
    lines = _reader(proc)
    try:
        _lines_until(lines, "watching", 60)
        exercise.write_text((PROJECT_ROOT / "solutions" / f"{SLUG}.py").read_text())
        first = "".join(_lines_until(lines, "watching for the next save", 180))
        assert "[PASS" in first or "passed" in first.lower(), first
        exercise.write_text(get(SLUG).render_stub())  # a second save: checked again
        second = "".join(_lines_until(lines, "watching for the next save", 180))
        assert "not implemented" in second, second
        assert proc.poll() is None  # still watching
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            try:
                code = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: it prints where each thread is
                proc.wait(timeout=30)
                left = []
                with contextlib.suppress(queue.Empty):
                    while (line := lines.get(timeout=5)) is not None:
                        left.append(line)
                pytest.fail("watch did not stop within 60 s of Ctrl-C; its last output and threads:\n"
                            + "".join(left)[-6000:])
            assert code == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()
