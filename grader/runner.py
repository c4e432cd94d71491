"""Run the hidden suites against submissions, from the trusted process.

pytest collects each suite once per process; the collected checks are then
called directly, each with the ``judge`` of its kata, and a ``Reporter``
records each outcome. Student code only ever runs in the worker's children.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, TypeVar, cast

import pytest
from hypothesis import HealthCheck, Phase, Verbosity, settings

from ._errors import GraderBug, SuiteSignal, WorkerFault, WorkerStartError
from .diagnose import diagnose_all
from .hypothesis_pin import pin_generation
from .judge import CandidateRaised, Delegated, Judge
from .katas import Kata
from . import prefetch
from .pool import Child, Module, Zygote
from .prefetch import ScriptKey
from .results import CheckResult, KataResult, Status
from .settings import GradingSettings
from .tiers import DEFAULT_POLICY, TierPolicy, apply, tier_of

SUITE_INI = Path(__file__).parent / "katas" / "suite.ini"
# Plugins the hidden suites do not need; unraisableexception alone costs a
# full gc.collect() per session. Blocked installed plugins (xdist, anyio, ...) are not even imported.
QUIET = [opt for name in ("cacheprovider", "terminal", "logging", "unraisableexception", "threadexception",
                          "faulthandler", "pastebin", "junitxml", "doctest", "stepwise", "randomly",
                          "xdist", "xdist.looponfail", "anyio", "platformdirs")
         for opt in ("-p", f"no:{name}")]
# Plain asserts: the suites report through Mismatch, and rewriting recompiles
# every suite module in every session. No capture: the suites are trusted and
# print nothing (Hypothesis is told to be quiet), and capturing costs a dozen
# system calls per test phase, 7 % of a batch.
BASE_ARGS = ["-c", str(SUITE_INI), "--rootdir", str(SUITE_INI.parent), "--assert=plain", "--capture=no", *QUIET]

# How long a failing kata's child may take to finish the scenarios it was sent ahead and
# never asked (slower: a fresh child for diagnosis, which costs about this much to start).
SETTLE_S = 0.25


def _register_profile(examples: int) -> str:
    name = f"gradkata-{examples}"
    # Parent is the "default" profile, named explicitly: with CI=true in the
    # environment Hypothesis makes its "ci" profile (derandomize=True) the
    # parent, which ignores the grading seed and changes every draw.
    settings.register_profile(
        name, parent=settings.get_profile("default"), derandomize=False,
        max_examples=examples, deadline=None, database=None, print_blob=False, verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    return name


def _message(exc: BaseException) -> tuple[Status, str]:
    if isinstance(exc, GraderBug) or (isinstance(exc, AssertionError) and str(exc).startswith("grader bug")):
        return Status.ERROR, str(exc)
    if isinstance(exc, SuiteSignal):
        return Status.FAILED, str(exc)
    if isinstance(exc, WorkerFault):
        return Status.ERROR, f"{exc.kind}: {exc.message}"
    return Status.FAILED, f"{type(exc).__name__}: {exc}"[:2000]


def _kata(item: pytest.Item) -> str:
    """The slug of the suite ``item`` comes from (every suite module sets KATA)."""
    # A suite's items are all test functions, so each is a pytest.Function, which has .module.
    return cast(pytest.Function, item).module.KATA


@dataclass
class Reporter:
    """Records each check's outcome per kata, for the judges of the submission being graded."""

    judges: dict[str, Judge]
    results: dict[str, list[CheckResult]] = field(default_factory=dict)

    def record(self, item: pytest.Item, exc: BaseException | None) -> None:
        """One check's outcome: ``exc`` is what the test raised (None: it passed)."""
        slug = _kata(item)
        marker = item.get_closest_marker("points")
        pts = float(marker.args[0]) if marker else 1.0
        note, self.judges[slug].note = self.judges[slug].note, ""
        status, message = (Status.PASSED, note) if exc is None else _message(exc)
        self.results.setdefault(slug, []).append(CheckResult(
            kata=slug, name=item.name, score=pts if status is Status.PASSED else 0.0, max_score=pts, status=status,
            message=message, visible=item.get_closest_marker("visible") is not None, tier=tier_of(item),
        ))


def _skipped(item: pytest.Item) -> bool:
    """A check that does not apply here (e.g. a CUDA check without a GPU): neither earned nor lost."""
    return any(mark.args and mark.args[0] is True for mark in item.iter_markers("skipif"))


@dataclass(frozen=True)
class CheckInfo:
    """A hidden test as collected: what `gradkata check` lists."""

    name: str
    tier: str
    points: float
    visible: bool
    doc: str


class _Collector:
    """pytest plugin of the one collection a process makes of a suite: what `check` lists, and
    the items themselves, which every later grading runs without another pytest session."""

    def __init__(self) -> None:
        self.checks: dict[str, list[CheckInfo]] = {}
        self.items: dict[str, list[pytest.Function]] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.items.setdefault(_kata(item), []).append(cast(pytest.Function, item))
            if _skipped(item):
                continue
            marker = item.get_closest_marker("points")
            doc = (getattr(getattr(item, "obj", None), "__doc__", None) or "").strip().split("\n")[0]
            self.checks.setdefault(_kata(item), []).append(CheckInfo(
                item.name, tier_of(item), float(marker.args[0]) if marker else 1.0,
                item.get_closest_marker("visible") is not None, doc))


_CHECKS: dict[str, list[CheckInfo]] = {}
_ITEMS: dict[str, list[pytest.Function]] = {}


def max_points(kata: Kata, policy: TierPolicy = DEFAULT_POLICY) -> float:
    """The points a kata is worth under ``policy`` (tests skipped here, such as CUDA ones, excluded)."""
    return sum(pts * policy.weight(tier) for tier, pts in tier_points(kata).items())


def tier_points(kata: Kata | str) -> dict[str, float]:
    """A kata's raw points per tier (before the policy's weights)."""
    from .katas import get

    kata = get(kata) if isinstance(kata, str) else kata
    out: dict[str, float] = {}
    for check in checks_of([kata])[kata.slug]:
        out[check.tier] = out.get(check.tier, 0.0) + check.points
    return out


def checks_of(katas: Sequence[Kata]) -> dict[str, list[CheckInfo]]:
    """The collected checks of several katas, with one pytest collection for all those not yet known."""
    unknown = [k for k in katas if k.slug not in _CHECKS]
    if unknown:
        collector = _Collector()
        pytest.main([*(str(k.suite_path) for k in unknown), *BASE_ARGS, "--collect-only"], plugins=[collector])
        for kata in unknown:
            _CHECKS[kata.slug] = collector.checks.get(kata.slug, [])
            _ITEMS[kata.slug] = collector.items.get(kata.slug, [])
    return {k.slug: _CHECKS[k.slug] for k in katas}


def points_of(katas: Sequence[Kata], policy: TierPolicy = DEFAULT_POLICY) -> dict[str, float]:
    """``max_points`` of several katas, with one pytest collection for all those not yet known."""
    checks_of(katas)
    return {k.slug: max_points(k, policy) for k in katas}


@dataclass
class Job:
    """One submission's turn in a suite session: its judges in, its checks out.

    ``respawn`` gives a kata a fresh judge (a new child importing the same code),
    for a regrade one call per ask (see :mod:`gradkata.prefetch`)."""

    judges: dict[str, Judge]
    checks: dict[str, list[CheckResult]] = field(default_factory=dict)
    respawn: Callable[[str], Judge | None] | None = None
    # Called before and after each kata's suite (a kata ``begin`` removes from ``judges`` is not run).
    begin: Callable[[str], None] | None = None
    end: Callable[[str], None] | None = None


class SuiteLoop:
    """Run the collected suites once per job, for every job the source yields.

    pytest collects each suite once per process (markers, parametrisation,
    Hypothesis's wrappers: :func:`checks_of`); every grading then calls the
    collected checks directly with their ``judge``, without a pytest session:
    a session's set-up, and pytest's per-item protocol (set-up, reports,
    teardown), cost more than most checks. A plugin object's
    ``pytest_pyfunc_call`` (the example replay) is still offered each call.
    """

    def __init__(self, reporter: Reporter, jobs: Iterator[Job], script_key: Callable[[str], ScriptKey],
                 plugins: Sequence[object] = ()) -> None:
        self.reporter = reporter
        self.jobs = jobs
        self.script_key = script_key
        self.calls = [hook for hook in (getattr(p, "pytest_pyfunc_call", None) for p in plugins) if hook]

    def run(self, by_kata: dict[str, list[pytest.Function]]) -> None:
        try:
            for job in self.jobs:
                pin_generation()  # same seed, same examples, whatever ran before
                self.reporter.judges, self.reporter.results = job.judges, job.checks
                for slug, items in by_kata.items():
                    if slug in job.judges and job.begin is not None:
                        job.begin(slug)
                    if slug in job.judges:
                        self._grade_kata(job, slug, items)
                        if job.end is not None:
                            job.end(slug)
        except BaseException:
            close = getattr(self.jobs, "close", None)
            if close is not None:
                close()  # the job source's cleanup (killing children) runs now
            raise

    def _grade_kata(self, job: Job, slug: str, items: list[pytest.Function]) -> None:
        judge = self._run(job.judges[slug], items)
        child = judge.child
        if child is not None and child.faulted_ahead and job.respawn is not None:
            # It died on a scenario sent ahead, one the suite may never have asked:
            # grade again, one call per ask, so the verdict names the right one.
            fresh = job.respawn(slug)
            if fresh is not None:
                child.close()
                job.judges[slug] = fresh
                job.checks.pop(slug, None)
                judge = self._run(fresh, items)
        self._settle(job, judge)
        checks = job.checks.get(slug, [])
        if judge.fault is None and not judge.delegated and checks and \
                all(c.status is Status.PASSED for c in checks):
            prefetch.record(self.script_key(slug), judge.asked)
        judge.asked = []

    @staticmethod
    def _settle(job: Job, judge: Judge) -> None:
        """Collect the replies to scenarios sent ahead that the suite never asked for (it stopped
        early), if the child has them ready. Should one of them kill the child, or keep it busy,
        no check saw it: diagnosis gets a fresh child that has seen nothing, alive as a
        call-per-ask run would have left it."""
        child = judge.child
        if child is None or child.dead is not None:
            return
        try:
            child.drain(within_s=SETTLE_S)
        except WorkerFault:
            fresh = job.respawn(judge.kata.slug) if job.respawn is not None else None
            child.dead = None  # not the suite's fault: the checks stand
            if fresh is not None and fresh.child is not None:
                child.close()
                judge.child = fresh.child

    def _run(self, judge: Judge, items: list[pytest.Function]) -> Judge:
        self.reporter.judges[judge.kata.slug] = judge
        if judge.child is not None:
            # Every child is spawned before the first suite runs; its per-kata time
            # budget must start with its own suite, not with the katas graded before it.
            judge.child.started = time.monotonic()
        for item in items:
            params = item.callspec.params if hasattr(item, "callspec") else {}
            item.funcargs = {"judge": judge, **params}
            try:
                with warnings.catch_warnings():
                    # What pytest did with suite.ini's filters: a warning is no verdict.
                    warnings.simplefilter("ignore")
                    self._call(item)
            except pytest.skip.Exception:
                continue
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:
                self.reporter.record(item, exc)
            else:
                self.reporter.record(item, None)
            finally:
                item.funcargs = {}
        return judge

    def _call(self, item: pytest.Function) -> None:
        for hook in self.calls:
            if hook(pyfuncitem=item):
                return
        item.obj(**{name: item.funcargs[name] for name in item._fixtureinfo.argnames})


@contextlib.contextmanager
def _hypothesis_run(settings_: GradingSettings, items: Iterable[pytest.Function]) -> Iterator[None]:
    """Hypothesis set as ``--hypothesis-seed`` and ``--hypothesis-profile`` would set it, for
    this run only (the process's own profile and seed come back after)."""
    from hypothesis import core

    before_profile, before_seed = settings.get_current_profile_name(), core.global_force_seed
    settings.load_profile(_register_profile(settings_.examples))
    setattr(core, "global_force_seed", settings_.seed)  # typed None: only its pytest plugin sets it
    for item in items:
        # @given binds settings.default when the suite module is first imported; rebind every
        # property test to this run's profile. (No suite sets @settings of its own.)
        if getattr(item.obj, "is_hypothesis_test", False):
            item.obj._hypothesis_internal_use_settings = settings.default
    try:
        yield
    finally:
        settings.load_profile(before_profile)
        setattr(core, "global_force_seed", before_seed)


def run_session(katas: Iterable[Kata], jobs: Iterator[Job], settings: GradingSettings, *,
                plugins: Sequence[object] = ()) -> None:
    """Run the katas' suites once per job (collected once per process, see :class:`SuiteLoop`)."""
    katas = list(katas)
    checks_of(katas)
    by_kata = {k.slug: [item for item in _ITEMS[k.slug] if not _skipped(item) and (
        not settings.visible_only or item.get_closest_marker("visible") is not None)] for k in katas}
    for plugin in plugins:
        bind = getattr(plugin, "bind", None)
        if bind is not None:
            bind(settings)  # e.g. the replay keys its recordings by this run's seed and example count
    loop = SuiteLoop(Reporter({}), jobs, lambda slug: (slug, settings.seed, settings.examples, settings.visible_only),
                     plugins)
    pin_generation()
    with _hypothesis_run(settings, [item for items in by_kata.values() for item in items]):
        loop.run(by_kata)


def run_suites(judges: dict[str, Judge], katas: Iterable[Kata], settings: GradingSettings, *,
               plugins: Sequence[object] = ()) -> dict[str, list[CheckResult]]:
    """The suites of ``katas`` for one set of judges (a session of one job)."""
    katas = [k for k in katas if k.slug in judges]
    if not katas:
        return {}
    job = Job(judges)
    run_session(katas, iter([job]), settings, plugins=plugins)
    return job.checks


TOP_LEVEL = 'your file runs code when imported: move it under `if __name__ == "__main__":`'


class _ImportFailed(KataResult):
    """An early result that every kata importing the same file shares: the file is imported
    once per submission, with one budget (see :func:`_open_children`)."""


def _open_child(zygote: Zygote, kata: Kata, source: bytes) -> tuple[Child | None, KataResult | None]:
    child = zygote.spawn(source, module=kata.slug, functions=list(kata.functions), forbid=list(kata.forbid),
                         harness=kata.harness)
    try:
        ready = child.handshake()
    except WorkerFault as fault:
        return None, _import_died(kata, fault, child.output())
    result = _not_ready(kata, ready)
    if result is not None:
        child.close()
        return None, result
    return child, None


def _import_died(kata: Kata, fault: WorkerFault, output: str) -> KataResult:
    advice = f"{TOP_LEVEL} (" if fault.kind in ("timeout", "kata-timeout", "crash") else ""
    return _ImportFailed(kata.slug, 0.0, 0.0, Status.ERROR,
                         f"{advice}{fault.kind} while importing: {fault.message}{')' if advice else ''}",
                         output=output)


def _not_ready(kata: Kata, ready: dict) -> KataResult | None:
    """The early result of a kata whose module imported as ``ready`` says (None: it can be graded)."""
    if ready.get("stage") == "import":
        err = CandidateRaised(ready.get("error") or {})
        return _ImportFailed(kata.slug, 0.0, 0.0, Status.ERROR, f"importing your file {err}")
    found = ready.get("found", {})
    missing = [n for n in kata.functions if found.get(n) == "missing"]
    if missing:
        return KataResult(kata.slug, 0.0, 0.0, Status.NOT_ATTEMPTED,
                          f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not defined")
    wrong = [n for n in kata.functions if found.get(n) != "callable"]
    if wrong:
        return KataResult(kata.slug, 0.0, 0.0, Status.ERROR, f"{', '.join(wrong)} is not a function")
    return None


def _open_shared(zygote: Zygote, katas: list[Kata], sources: dict[str, bytes | None],
                 ) -> tuple[dict[str, Judge], dict[str, KataResult], list[Kata]]:
    """One child for several katas of a submission: judges for the katas whose module imported,
    early results for the others, and the katas left to children of their own.

    Should the child die importing a module (a timeout, a crash), that kata gets the verdict a
    child of its own would give, and the group's other katas are left to children of their own.
    """
    modules = [Module(k.slug, cast(bytes, sources[k.slug]), tuple(k.functions), k.harness) for k in katas]
    child = zygote.spawn_shared(modules, forbid=list(katas[0].forbid))
    judges: dict[str, Judge] = {}
    early: dict[str, KataResult] = {}
    for i, kata in enumerate(katas):
        try:
            ready = child.confined_then() if i == 0 else child.imported()
        except WorkerFault as fault:
            early[kata.slug] = _import_died(kata, fault, child.output())
            child.close()
            return {}, early, [k for k in katas if k.slug not in early]
        result = _not_ready(kata, ready)
        if result is not None:
            early[kata.slug] = result
        else:
            judges[kata.slug] = Judge(kata, child)
    if not judges:
        child.close()
    head = child.output_size()
    for judge in judges.values():
        judge.output_head = judge.output_from = head
    return judges, early, []


def _share_key(kata: Kata) -> tuple[str, ...] | None:
    """Katas of one submission with the same key may share a child: the same forbidden functions
    (the guard is per child), and a driver without loopback ranks (None: never shared)."""
    from .worker.harness import load

    if getattr(load(kata.harness), "LOOPBACK", False):
        return None
    return tuple(kata.forbid)


def _early(kata: Kata, result: KataResult) -> KataResult:
    """The kata's early result (no check ran), out of the kata's points."""
    return KataResult(kata.slug, 0.0, max_points(kata), result.status, result.reason, output=result.output)


def _conclude(kata: Kata, judge: Judge, checks: list[CheckResult], output: str, elapsed: float,
              policy: TierPolicy = DEFAULT_POLICY) -> KataResult:
    if not checks:
        # A suite that failed to import or collect reports nothing; without this
        # the kata would read "passed" with 0 / 0.
        return KataResult(kata.slug, 0.0, max_points(kata), Status.ERROR,
                          f"grader bug: the hidden suite ran no tests (try `pytest {kata.suite_path}`)",
                          output=output, elapsed_s=elapsed)
    max_score = sum(c.max_score for c in checks)
    score = sum(c.score for c in checks)
    result = apply(policy, KataResult(kata.slug, score, max_score, Status.FAILED, checks=checks, output=output,
                                      elapsed_s=elapsed))
    if judge.fault is not None:
        _zero(result, f"{judge.fault.kind}: {judge.fault.message}")
    elif judge.delegated:
        _zero(result, str(Delegated(sorted(judge.delegated))))
    elif checks and all(_not_implemented(judge, c) for c in checks if c.status is not Status.PASSED) \
            and score == 0:
        result.status, result.reason = Status.NOT_IMPLEMENTED, "every call raised NotImplementedError"
    return result


def _zero(result: KataResult, reason: str) -> None:
    """A kata the submission broke earns nothing, whatever checks passed before."""
    result.score, result.status, result.reason = 0.0, Status.ERROR, reason
    for check in result.checks:
        check.score = 0.0
    for tier in result.tiers.values():
        tier.score = 0.0


def _not_implemented(judge: Judge, check: CheckResult) -> bool:
    return "raised NotImplementedError" in check.message


def _open_children(zygote: Zygote, katas: list[Kata], sources: dict[str, bytes | None],
                   scripts: Callable[[str], prefetch.Script | None] = lambda slug: None, *,
                   share: bool = False) -> tuple[dict[str, Judge], dict[str, KataResult]]:
    """A judge per kata whose code imported; an early result for every other kata.

    ``share``: katas that may share a child (:func:`_share_key`) get one child for all of them.
    A child of its own is sent its kata's script now, a shared one as each kata's suite begins."""
    judges: dict[str, Judge] = {}
    early: dict[str, KataResult] = {}
    # A file whose import failed (it timed out, crashed or raised) is not imported again for the
    # next kata it holds: one file with a training loop at top level cost the import timeout once
    # per kata (131 s for 13 katas). Every kata of that file gets the same verdict at once.
    failed: dict[bytes, KataResult] = {}
    groups: dict[tuple[str, ...], list[Kata]] = {}
    for kata in katas:
        key = _share_key(kata) if share and sources.get(kata.slug) is not None else None
        if key is not None:
            groups.setdefault(key, []).append(kata)
    shared = {k.slug: group for group in groups.values() if len(group) > 1 for k in group}

    def settle(kata: Kata, result: KataResult) -> None:
        if isinstance(result, _ImportFailed):
            failed[cast(bytes, sources[kata.slug])] = result
        early[kata.slug] = _early(kata, result)

    def send(slug: str) -> None:
        script = scripts(slug)
        child = judges[slug].child
        if child is not None and script is not None:
            # Sent now: the child answers while the next katas' children start.
            child.prefetch(script.keys, script.message)
            judges[slug].scripted = True

    try:
        for kata in katas:
            if kata.slug in judges or kata.slug in early:
                continue  # opened with its group
            source = sources.get(kata.slug)
            if source is None:
                early[kata.slug] = KataResult(kata.slug, 0.0, max_points(kata), Status.NOT_ATTEMPTED,
                                              "no file for this kata")
                continue
            if source in failed:
                early[kata.slug] = _early(kata, failed[source])
                continue
            group = [k for k in shared.get(kata.slug, []) if sources.get(k.slug) not in failed]
            if len(group) > 1:
                opened, results, left = _open_shared(zygote, group, sources)
                for member in group:
                    if member.slug in results:
                        settle(member, results[member.slug])
                judges.update(opened)  # their scripts are sent as each kata begins (_Turn.begin)
                for other in left:  # the shared child died importing: children of their own
                    shared.pop(other.slug, None)
                if kata not in left:
                    continue
                if source in failed:  # the file that killed it holds this kata too
                    settle(kata, failed[source])
                    continue
            child, result = _open_child(zygote, kata, source)
            if result is not None:
                settle(kata, result)
            else:
                judges[kata.slug] = Judge(kata, child)
                send(kata.slug)
    except BaseException:
        _close(judges)
        raise
    return judges, early


def _close(judges: dict[str, Judge]) -> None:
    for judge in judges.values():
        if judge.child is not None:
            judge.child.close()


def _finish(katas: list[Kata], judges: dict[str, Judge], job: Job, diagnoses: dict[str, list],
            early: dict[str, KataResult], started: float, policy: TierPolicy = DEFAULT_POLICY) -> list[KataResult]:
    for judge in judges.values():
        judge.end()  # each was ended as its suite finished, unless the session stopped half-way
        if judge.child is not None:
            judge.child.kill()
    elapsed = time.perf_counter() - started
    results = {slug: apply(policy, r, tier_points(slug)) for slug, r in early.items()}
    for slug, judge in judges.items():
        kata = judge.kata
        if judge.child is None:  # _open_children gives every judge here its child
            raise GraderBug(f"grader bug: the judge of {slug} has no worker child")
        results[slug] = _conclude(kata, judge, job.checks.get(slug, []), judge.output,
                                  elapsed / max(len(judges), 1), policy)
        results[slug].diagnoses = diagnoses.get(slug, [])
    return [results[k.slug] for k in katas]  # the caller closes the children (and removes their scratch)


class _Turn:
    """One submission's katas, one after the other: a kata whose child is shared with the
    katas before it starts where they left it, or on a child of its own when they killed it;
    each kata is diagnosed as soon as its suite is done (while its child lives)."""

    def __init__(self, zygote: Zygote, by_slug: dict[str, Kata], sources: dict[str, bytes | None],
                 judges: dict[str, Judge], early: dict[str, KataResult],
                 scripts: Callable[[str], prefetch.Script | None]) -> None:
        self.zygote, self.by_slug, self.sources = zygote, by_slug, sources
        self.judges, self.early, self.scripts = judges, early, scripts
        self.job = Job(judges, respawn=self.respawn, begin=self.begin, end=self.end)
        self.diagnoses: dict[str, list] = {}
        self.retired: list[Child] = []

    def respawn(self, slug: str) -> Judge | None:
        return self._fresh(slug)[0]

    def _fresh(self, slug: str) -> tuple[Judge | None, KataResult | None]:
        """A judge on a child of its own importing the kata's code again, or the early result."""
        source = self.sources.get(slug)
        if source is None:
            return None, None
        child, result = _open_child(self.zygote, self.by_slug[slug], source)
        return (Judge(self.by_slug[slug], child) if child is not None else None), result

    def begin(self, slug: str) -> None:
        judge = self.judges[slug]
        child = judge.child
        if child is None or not child.shared:
            return
        if child.usable():
            try:
                child.drain(within_s=SETTLE_S)  # what the kata before it was sent and never asked
            except WorkerFault:
                pass
        if not child.usable():
            # The katas before it killed the shared child: this kata starts on one of its own,
            # as it would have without sharing.
            self.retired.append(child)
            fresh, result = self._fresh(slug)
            if fresh is None or fresh.child is None:
                del self.judges[slug]
                if result is not None:
                    self.early[slug] = _early(self.by_slug[slug], result)
                return
            self.judges[slug] = judge = fresh
            child = fresh.child
        else:
            # What the kata before it left ahead is drained: from here on, as in a child of its own.
            child.in_step, child.faulted_ahead = True, False
            judge.output_from = child.output_size()
        script = self.scripts(slug)
        if script is not None:
            child.prefetch(script.keys, script.message)
            judge.scripted = True

    def end(self, slug: str) -> None:
        judge = self.judges[slug]
        self.diagnoses[slug] = diagnose_all({slug: judge}, self.job.checks, self.sources).get(slug, [])
        judge.end()
        if judge.child is not None and not judge.child.shared:
            judge.child.kill()  # done with: its memory goes back now


T = TypeVar("T")


def grade_each(zygote: Zygote, katas: list[Kata], work: Iterable[tuple[T, dict[str, bytes | None]]],
               on_result: Callable[[T, list[KataResult]], None], settings: GradingSettings, *,
               plugins: Sequence[object] = (), share_children: bool = False) -> None:
    """Grade many submissions in one suite session, calling ``on_result`` as each is done.

    ``work`` yields ``(tag, sources)``, ``sources`` mapping each kata slug to the
    code to import (None: absent); it may block until the next one arrives.
    ``share_children``: for throughput (a batch): a submission's katas that can share a child
    do (:func:`_open_shared`): fewer forks, less CPU per submission, the same verdicts; but
    each kata's child starts its scenarios only when its suite begins, so one submission
    takes longer than with a child per kata, whose children all compute from the start.
    """
    policy = settings.policy

    by_slug = {k.slug: k for k in katas}

    def scripts(slug: str) -> prefetch.Script | None:
        return prefetch.lookup((slug, settings.seed, settings.examples, settings.visible_only))

    def jobs() -> Iterator[Job]:
        for tag, sources in work:
            started = time.perf_counter()
            try:
                judges, early = _open_children(zygote, katas, sources, scripts, share=share_children)
            except WorkerStartError:
                zygote.restart()  # the zygote itself died (not a child): one fresh start, then give up
                judges, early = _open_children(zygote, katas, sources, scripts, share=share_children)

            turn = _Turn(zygote, by_slug, sources, judges, early, scripts)
            try:
                if judges:
                    yield turn.job
                results = _finish(katas, judges, turn.job, turn.diagnoses, early, started, policy)
            finally:
                _close(judges)  # also when the session stops half-way through this job
                for child in turn.retired:
                    child.close()
            on_result(tag, results)

    run_session(katas, jobs(), settings, plugins=plugins)


def grade_sources(zygote: Zygote, katas: list[Kata], sources: dict[str, bytes | None], settings: GradingSettings,
                  *, plugins: Sequence[object] = ()) -> list[KataResult]:
    """Grade one submission: ``sources`` maps each kata slug to the code to import (None: absent)."""
    out: list[list[KataResult]] = []
    grade_each(zygote, katas, [(None, sources)], lambda _tag, results: out.append(results), settings,
               plugins=plugins)
    return out[0]


def check_functions(kata: Kata, funcs: dict, settings: GradingSettings = GradingSettings(seed=1)) -> list[CheckResult]:
    """Run one kata's hidden suite on trusted in-process functions (mutants, references).

    For the project's own tests and the confusion matrix; submissions always go
    through :func:`grade_sources` and the worker.
    """
    from .judge import LocalJudge

    return run_suites({kata.slug: LocalJudge(kata, funcs)}, [kata], settings).get(kata.slug, [])
