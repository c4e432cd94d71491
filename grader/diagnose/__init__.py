"""Name the mistake behind a failing submission.

Trusted side only. The kata's mutants run here, in this process, on the
scenarios the candidate was called with (its failing calls first) and on the
kata's fixed probe battery; a mutant whose observations agree with the
candidate's names the mistake. Where behaviour cannot tell, static checks on
the submission's syntax tree refine the verdict. The candidate is only ever
reached through its worker child, and only plain data comes back.

The parts, by job: :mod:`.compare` (observations simplified and compared,
the candidate's, a mutant's and the reference's outcomes), :mod:`.match`
(the evidence, each mutant's ledger, the choice of mistakes), :mod:`.static`
(syntax-tree checks: forbidden built-ins named, host syncs in a loop). This
module is the public face: :func:`diagnose_all` (the runner),
:func:`diagnose_judge`, :func:`diagnose_functions` (trusted in-process code).
"""

from __future__ import annotations

import sys
from typing import Callable, Iterable

from .._errors import WorkerFault
from ..judge import Call, Judge
from ..katas import Kata
from ..pool import call_message, calls_message
from ..prefetch import digest
from ..mistakes import Mistake, probes
from ..results import CheckResult, Diagnosis, Status
from .compare import same, simplify, trusted_outcome
from .match import _evidence, behavioural, evidence_from_calls, evidence_from_probes, same_mistake
from .static import HOST_SYNC, _advises_host_sync, forbidden_references, host_sync_in_loop, parse

# What the runner, the sweep, the tests and the benchmarks import from here.
__all__ = ["diagnose_all", "diagnose_judge", "diagnose_functions", "failed", "delegation", "named_not_called",
           "as_diagnosis", "same", "simplify", "same_mistake", "forbidden_references", "host_sync_in_loop", "parse"]


def delegation(kata: Kata, names: Iterable[str]) -> Diagnosis:
    listed = ", ".join(f"torch.nn.utils.{n}" for n in sorted(set(names)))
    return Diagnosis(
        kata=kata.slug, mistake=f"{kata.slug}/delegation", title="Delegated to PyTorch's built-in",
        message=(f"Your code uses {listed}. This kata asks you to write the clipping yourself, so a submission "
                 "that calls the built-in earns no points here.\nWhy it matters: writing the rule yourself is "
                 "how you learn what the built-in does and what it quietly handles; PyTorch is the grader's "
                 "oracle, not yours.\nFix: remove the call and the import. To compare with torch "
                 "while you work, do it under `if __name__ == \"__main__\":`, which the grader ignores."),
        evidence="called while grading")


def named_not_called(kata: Kata, names: Iterable[str]) -> Diagnosis:
    """A built-in the source names (an import, an attribute) that no call reached while grading."""
    listed = ", ".join(f"torch.nn.utils.{n}" for n in sorted(set(names)))
    return Diagnosis(
        kata=kata.slug, mistake=f"{kata.slug}/names-builtin", title="Names PyTorch's built-in without calling it",
        message=(f"Your file imports or names {listed}, but no call reached it while your code was graded, so "
                 "no points are taken off.\nWhy it matters: this kata's policy is that you write the clipping "
                 "yourself; a call to the built-in, in any branch the grader reaches, earns no points for the "
                 "kata.\nFix: remove the import, or keep your comparisons with torch under "
                 "`if __name__ == \"__main__\":`, which the grader ignores."),
        evidence="named in the source only", advice=True)


def as_diagnosis(mistake: Mistake, evidence: str = "") -> Diagnosis:
    return Diagnosis(kata=mistake.kata, mistake=mistake.id, title=mistake.title, message=mistake.feedback(),
                     evidence=evidence)


# --- entry points ------------------------------------------------------------------

def failed(checks: list[CheckResult]) -> bool:
    return any(c.status is not Status.PASSED for c in checks)


def _all_not_implemented(checks: list[CheckResult]) -> bool:
    bad = [c for c in checks if c.status is not Status.PASSED]
    return bool(bad) and all("raised NotImplementedError" in c.message for c in bad)


_PROBE_REQUESTS: dict[str, tuple[list[bytes], tuple[bytes, ...], bytes]] = {}


def _probe_requests(kata: Kata) -> tuple[list[bytes], tuple[bytes, ...], bytes]:
    """The probe battery's requests, their hashes and one request for them all (made once per kata)."""
    if kata.slug not in _PROBE_REQUESTS:
        messages = [call_message(kata.harness, scenario) for scenario in probes(kata)]
        _PROBE_REQUESTS[kata.slug] = (messages, tuple(digest(m) for m in messages),
                                      calls_message(messages) if messages else b"")
    return _PROBE_REQUESTS[kata.slug]


def _asker(judge: Judge) -> Callable[[dict], dict | None]:
    """Calls the candidate's living child directly: probes must not enter the
    judge's log, and a probe that kills the child must not count as a fault of the
    graded suite (the kata keeps the points its checks earned). The whole battery
    is sent ahead in one request; each probe's reply is read when asked for."""
    gone = False
    messages, keys, batch = _probe_requests(judge.kata)
    by_id = {id(scenario): i for i, scenario in enumerate(probes(judge.kata))}
    child = judge.child
    if child is not None and child.dead is None and batch:
        try:
            child.prefetch(keys, batch)
        except WorkerFault:
            gone, child.dead = True, None

    def ask(scenario: dict) -> dict | None:
        nonlocal gone
        if gone or child is None or child.dead is not None:
            return None
        i = by_id.get(id(scenario))
        message = messages[i] if i is not None else call_message(judge.kata.harness, scenario)
        try:
            return child.reply(digest(message) if i is None else keys[i], message)
        except WorkerFault:
            gone, child.dead = True, None  # the suite's verdict stands; the child is already killed
            return None

    return ask


def diagnose_judge(judge: Judge, checks: list[CheckResult], source: bytes | None) -> list[Diagnosis]:
    """Diagnoses for one kata of one submission, after its suite ran (child still alive)."""
    kata, tree = judge.kata, parse(source)
    static_hits = forbidden_references(tree, kata.forbid, kata.functions) if tree is not None else []
    if judge.delegated:  # the tripwire saw a call: the kata is zeroed (runner._conclude)
        return [delegation(kata, judge.delegated)]
    # Named in the source but never called (an unused import, a branch the grader never
    # reaches): said as advice; the score stands on what the code did.
    notes = [named_not_called(kata, static_hits)] if static_hits else []
    if not failed(checks) or _all_not_implemented(checks):
        return notes
    evidence = evidence_from_calls(kata, judge.calls)
    alive = judge.child is not None and judge.child.dead is None
    if alive:
        evidence += evidence_from_probes(kata, _asker(judge))
    found = [as_diagnosis(m, "outputs match") for m in behavioural(kata, evidence, tree)]
    if tree is not None and _advises_host_sync(kata) and host_sync_in_loop(tree):
        found.append(Diagnosis(kata.slug, f"{kata.slug}/{HOST_SYNC[0]}", HOST_SYNC[1], HOST_SYNC[2], "static",
                               advice=True))
    return found + notes


def diagnose_all(judges: dict[str, Judge], checks: dict[str, list[CheckResult]],
                 sources: dict[str, bytes | None]) -> dict[str, list[Diagnosis]]:
    """Diagnoses per kata slug; call after the suites ran and before the children are killed."""
    out = {}
    for slug, judge in judges.items():
        try:
            out[slug] = diagnose_judge(judge, checks.get(slug, []), sources.get(slug))
        except WorkerFault:
            out[slug] = []  # the candidate's child died while probed: its checks already say why
        except Exception as exc:  # noqa: BLE001 -- a grader bug: the scores stand, the bug is shown
            out[slug] = []
            print(f"gradkata: diagnosing {slug} failed, a grader bug (scores are unaffected; please report "
                  f"it): {type(exc).__name__}: {exc}", file=sys.stderr)
    return out


def diagnose_functions(kata: Kata, funcs: dict[str, Callable], source: str | None = None,
                       calls: list[Call] | None = None) -> list[Mistake]:
    """Behavioural diagnosis of trusted in-process functions (tests, the confusion matrix)."""
    evidence = evidence_from_calls(kata, calls or [])
    for scenario in probes(kata):
        evidence.append(_evidence(kata, scenario, trusted_outcome(kata, funcs, scenario)))
    return behavioural(kata, evidence, parse(source))
