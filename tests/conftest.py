"""Settings for the whole test suite."""

from __future__ import annotations

import os

# `gradkata check` and `grade` would otherwise start (and reuse) a resident grader of this user's, shared
# across test runs and with the person running them: each test grades in its own process instead. The
# tests of the resident grader itself lift this (tests/cli/test_serve.py, test_watch.py).
os.environ["GRADKATA_NO_SERVER"] = "1"

# Recorded Hypothesis examples of fixed seeds (gradkata.batch.replay.ReplayStore) go to a cache of this
# test run's own, not the user's: no test depends on what an earlier run left there.
if "GRADKATA_CACHE" not in os.environ:
    import atexit
    import shutil
    import tempfile

    _cache = tempfile.mkdtemp(prefix="gradkata-test-cache-")
    os.environ["GRADKATA_CACHE"] = _cache
    atexit.register(shutil.rmtree, _cache, True)
