"""Settings for the whole test suite, a zygote the tests share, and how pytest-xdist spreads the tests.

The suite runs serially (``pytest -q``) or in parallel (``pytest -q -n logical``, what CI runs). Under
pytest-xdist (``--dist loadgroup``, set in pyproject.toml) every test that uses a module-scoped fixture
(one grading of a class, a warm server, a notebook run) stays on one worker with the rest of its module,
so that fixture is built once; every other test is scheduled on its own. Measured in docs/notes/testspeed.md.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import pytest

if TYPE_CHECKING:
    from gradkata.pool import Zygote
    from gradkata.results import SubmissionResult
    from gradkata.settings import GradingSettings

# nbformat imports jsonschema, whose "iri" format checker imports rfc3987-syntax, which builds 38 lark
# grammars at import: 2 to 4 s of CPU in each worker, before its first test, for a format that nothing
# here validates (python-jsonschema/jsonschema#1428). Without it jsonschema leaves "iri" unchecked, as
# it does wherever that package is not installed. The processes the tests start are not affected.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]

# torch on one thread in the test workers and the processes they start, as the command line runs it
# (gradkata._startup.one_thread): two workers' thread pools spinning against each other and the sandboxed
# children made the trusted sweeps up to ten times slower (the suite 215 -> 181 s, 385 -> 320 CPU s).
from gradkata import _startup  # noqa: E402

_startup.one_thread()

# A shell starts a background job (`.ci/run &`, a CI runner's step) with SIGINT ignored, and every process
# the tests start inherits that: `gradkata serve` and `watch`, which the tests stop with SIGINT as a person
# stops them with Ctrl-C, then ran on, and their tests failed after a minute, or passed when an earlier
# test in the same worker had happened to restore SIGINT (asyncio.run does). Ctrl-C means Ctrl-C here.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

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

# Under xdist, the modules that take longest are handed out first (longest-first keeps the workers
# finishing together); the ones made of many short tests go last, where they fill the gaps. Measured
# serially, under load (docs/notes/testspeed.md). A module not listed keeps its place in between.
# xdist's loadgroup scheduler hands out the groups (largest first, by number of tests) before the single
# tests, so this order decides among the single tests (docs/notes/tests-speed.md).
FIRST = [
    "tests/export/test_nbgrader.py",
    "tests/notebooks/test_notebooks.py",
    "tests/katas/test_seed_code_more.py",
    "tests/engine/test_sessions.py",
    "tests/batch/test_shards.py",
    "tests/katas/test_seed_code.py",
    "tests/batch/test_batch.py",
    "tests/export/test_gradescope.py",
    "tests/cli/test_serve.py",
    "tests/cli/test_streams.py",
    "tests/cli/test_cli.py",
    "tests/sandbox/test_sandbox.py",
]
LAST = [
    "tests/katas/test_katas.py",
    "tests/katas/test_mistakes.py",
]

SHARED_SCOPES = ("module", "class", "package")


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def _uses_a_shared_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    for name in item.fixturenames:  # type: ignore[attr-defined]
        defs = info.name2fixturedefs.get(name)
        if defs and defs[-1].scope in SHARED_SCOPES:
            return True
    return False


def _group_in_node_ids(items: list[pytest.Item]) -> None:
    """Put each item's xdist_group into its node id, where --dist loadgroup reads it.

    pytest-xdist 3.8 appends ``@group`` to ``item._nodeid``; pytest 9.2 keeps a node's id in ``item._id``
    (a structured NodeId) and no longer reads ``_nodeid``, so loadgroup silently stopped grouping
    (pytest-dev/pytest-xdist#1386): every test was scheduled on its own and a module's shared fixtures
    (a class graded, the notebooks run) were built on both workers. Done here on the id pytest reads; with
    an older pytest (no ``_id``) xdist's own suffix works and nothing is done. Should xdist append it too
    one day, the scope (the part after the last ``@``) stays the same.
    """
    try:
        from _pytest.nodeid import NodeId  # pytest >= 9.2
    except ImportError:
        return
    for item in items:
        groups = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                         for m in item.iter_markers("xdist_group")})
        if groups and isinstance(getattr(item, "_id", None), NodeId):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")  # type: ignore[attr-defined]


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _uses_a_shared_fixture(item):
            item.add_marker(pytest.mark.xdist_group(_module(item)))
    if hasattr(config, "workerinput") and config.getvalue("loadgroup"):
        _group_in_node_ids(items)
    if hasattr(config, "workerinput"):  # an xdist worker: every worker sorts the same way
        def rank(item: pytest.Item) -> int:
            module = _module(item)
            if module in FIRST:
                return FIRST.index(module)
            if module in LAST:
                return len(FIRST) + 1 + LAST.index(module)
            return len(FIRST)

        items.sort(key=rank)  # stable: the order within a module stays as collected


@pytest.fixture(scope="session")
def shared_zygote() -> Iterator[Zygote]:
    """One warm zygote (the default limits, every driver) for the tests that only grade through it.

    Starting one imports torch and sets up the sandbox (seconds each); tests that start, stop, share or
    kill zygotes on purpose make their own. Under xdist each worker has one.
    """
    from gradkata.pool import Zygote

    with Zygote() as z:
        yield z


@pytest.fixture(scope="session")
def grade_warm(shared_zygote: Zygote) -> Callable[..., list[SubmissionResult]]:
    """``grade(paths, slugs, settings)`` on the session's warm zygote: what :func:`gradkata.api.grade`
    does with given settings (one suite session; recorded examples replayed for later submissions and,
    like the scenario scripts, kept in this run's cache), without a zygote start of its own (seconds of
    CPU each). For the tests that grade fixed files to check the verdicts; the tests of ``grade()`` itself
    (limits, unreadable files, the CLI, the server's equivalence) call it directly.
    """
    from gradkata.api import grade_on, select

    def run(paths: Sequence[Path], slugs: Sequence[str] | None = None, settings: GradingSettings | None = None,
            ) -> list[SubmissionResult]:
        assert settings is not None, "a fixed seed: the tests' verdicts must not depend on the run"
        return grade_on(shared_zygote, paths, select(slugs), settings, keep_examples=True)

    return run
