"""Settings for the whole test suite."""

from __future__ import annotations

import os

# `gradkata check` and `grade` would otherwise start (and reuse) a resident grader of this user's, shared
# across test runs and with the person running them: each test grades in its own process instead. The
# tests of the resident grader itself lift this (tests/cli/test_serve.py, test_watch.py).
os.environ["GRADKATA_NO_SERVER"] = "1"
