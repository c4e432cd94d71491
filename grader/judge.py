"""What a hidden suite talks to: the candidate (in the worker), the reference and the oracle (here).

All three are driven through the same harness, so their observations are made
the same way; the candidate's arrive over the wire as plain data.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ._errors import SuiteSignal, WorkerFault
from .katas import Kata
from .pool import Child, call_message
from .prefetch import digest as _digest
from .prefetch import enabled as _ahead_enabled
from .worker import harness as drivers
from .worker import wire


class CandidateRaised(SuiteSignal):
    """The submission raised while being called."""

    def __init__(self, error: dict) -> None:
        self.error = error
        where = "; ".join(error.get("where", []))
        text = f"raised {error.get('type', 'Exception')}: {error.get('message', '')}".rstrip(": ")
        super().__init__(text + (f" ({where})" if where else ""))

    @property
    def not_implemented(self) -> bool:
        return self.error.get("type") == "NotImplementedError"


class Delegated(SuiteSignal):
    """The submission called a built-in this kata asks it to re-implement."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        super().__init__(
            "called torch.nn.utils." + ", ".join(names) + ": this kata asks you to write the clipping yourself"
        )


def _normalise(obs: Any) -> Any:
    # Round-trip through the wire so in-process observations have exactly the
    # shape and types of those that come from the worker.
    return wire.decode(wire.encode(obs))


_CACHE: dict[tuple[str, str, bytes], dict] = {}
_CACHE_MAX = 4096


def scenario_key(harness: str, scenario: dict) -> bytes:
    """The cache key of a scenario: a hash of the request the child would get for it."""
    return _digest(call_message(harness, scenario))


def cached_observe(kata: Kata, role: str, funcs: Callable[[], dict[str, Callable]], scenario: dict,
                   key: bytes | None = None) -> dict:
    """``observe`` for the reference and the oracle, remembered across submissions:
    with a fixed seed every submission meets the same scenarios.

    The cached arrays are read-only and shared; each caller gets its own
    dictionaries and lists (a suite may edit those, never the numbers).
    """
    entry = (kata.slug, role, key if key is not None else scenario_key(kata.harness, scenario))
    if entry not in _CACHE:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        # On a private copy: the memoised key must keep describing the scenario.
        _CACHE[entry] = _freeze(observe(kata, funcs(), wire.decode(wire.encode(scenario))))
    return _fresh(_CACHE[entry])


def _freeze(obs: Any) -> Any:
    if isinstance(obs, np.ndarray):
        obs.flags.writeable = False
    elif isinstance(obs, dict):
        for value in obs.values():
            _freeze(value)
    elif isinstance(obs, list):
        for value in obs:
            _freeze(value)
    return obs


def _fresh(obs: Any) -> Any:
    # Much cheaper than deepcopy: only containers are copied; arrays are read-only.
    if isinstance(obs, dict):
        return {k: _fresh(v) for k, v in obs.items()}
    if isinstance(obs, list):
        return [_fresh(v) for v in obs]
    return obs


class _Discard(io.TextIOBase):
    """A text stream that keeps nothing: where trusted code's prints go."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


_SINK = _Discard()


def observe(kata: Kata, funcs: dict[str, Callable], scenario: dict) -> dict:
    """Run trusted implementations (reference, oracle, mutant) through the kata's harness."""
    harness = drivers.get(kata.harness)
    with warnings.catch_warnings(), contextlib.redirect_stdout(_SINK), contextlib.redirect_stderr(_SINK):
        # torch warns on empty generators and deprecated names; not our business here.
        warnings.simplefilter("ignore")
        # References and mutants of the training katas log as they train ("Epoch 1:
        # train loss ..."); run here, in the grading process, those lines would land
        # in the user's report (and in any `--json -` a tool reads from stdout).
        return _normalise(harness.run(funcs, scenario))


@dataclass
class Call:
    scenario: dict
    reply: dict


@dataclass
class Judge:
    """The ``judge`` a hidden suite's checks are called with, for one kata of one submission."""

    kata: Kata
    child: Child | None
    calls: list[Call] = field(default_factory=list)
    delegated: set[str] = field(default_factory=set)
    max_log: int = 400
    # A passing check's advice (the performance tier's measured figures): set by
    # the test, taken by the Reporter into that check's message.
    note: str = ""
    _memo: tuple[dict, bytes, bytes] | None = field(default=None, repr=False)
    # Every call the suite made, in order, as sent: a complete run's list becomes
    # the kata's script (:mod:`gradkata.script`), sent ahead to later children.
    asked: list[bytes] = field(default_factory=list, repr=False)
    # The child was sent the kata's whole script (the runner sets it): nothing to ask ahead.
    scripted: bool = False

    def _repr_pretty_(self, printer, cycle) -> None:
        # hypothesis pretty-prints every argument of a failing test, this fixture
        # included; with a log of large scenarios that replaced the student's
        # message by "HypothesisWarning: Generating overly large repr".
        printer.text(f"Judge({self.kata.slug})")

    # Set when the kata is graded and diagnosed (:meth:`end`): a shared child's later katas
    # may kill it, which is no fault of this one.
    ended: bool = field(default=False, repr=False)
    _fault: WorkerFault | None = field(default=None, repr=False)
    output: str = field(default="", repr=False)
    # Where this kata's output begins in a shared child's log, after the imports' ``head`` bytes.
    output_from: int = field(default=0, repr=False)
    output_head: int = field(default=0, repr=False)

    @property
    def fault(self) -> WorkerFault | None:
        if self.ended:
            return self._fault
        return self.child.dead if self.child else None

    def end(self) -> None:
        """The kata is done: keep its fault and its output as they are now."""
        if not self.ended:
            self._fault = self.fault
            self.output = self.child.output(self.output_from, self.output_head) if self.child else ""
            self.ended = True

    def candidate(self, scenario: dict) -> dict:
        if self.child is None:
            raise WorkerFault("crash", "no worker for this kata")
        message, key = self._encoded(scenario)
        self.asked.append(message)
        reply = self.child.reply(key, message)
        if len(self.calls) < self.max_log:
            self.calls.append(Call(scenario, reply))
        hits = reply.get("delegated") or []
        if hits:
            self.delegated.update(str(h) for h in hits)
            raise Delegated(sorted(self.delegated))
        if not reply["ok"]:
            raise CandidateRaised(reply.get("error") or {})
        obs = reply.get("obs")
        if not isinstance(obs, dict):
            raise CandidateRaised({"type": "ProtocolError", "message": "the worker sent no observation"})
        return obs

    def ask_ahead(self, scenario: dict) -> None:
        """Send ``scenario`` to the child now, so that it computes its answer while the suite
        computes the reference's and PyTorch's here; the next :meth:`candidate` call for it reads
        the reply. Only for a scenario the suite asks the candidate next, whatever the reference
        and PyTorch answer: the child then runs the very calls, in the very order, that one call
        per ask would make it run. Nothing to do for a child sent its kata's whole script."""
        if self.child is None or self.child.dead is not None or self.scripted or not _ahead_enabled():
            return
        message, key = self._encoded(scenario)
        self.child.prefetch([key], message)  # a plain call: the child answers it like one in a script

    def _encoded(self, scenario: dict) -> tuple[bytes, bytes]:
        # A suite puts the same scenario object to the candidate, the reference
        # and the oracle in turn: encode it once, for the child's request and,
        # hashed, for the cache key. The memo holds the object itself, so its
        # id cannot be reused by another while remembered.
        memo = self._memo
        if memo is None or memo[0] is not scenario:
            message = call_message(self.kata.harness, scenario)
            memo = self._memo = (scenario, message, _digest(message))  # = scenario_key
        return memo[1], memo[2]

    def _key(self, scenario: dict) -> bytes:
        return self._encoded(scenario)[1]

    def reference(self, scenario: dict) -> dict:
        return cached_observe(self.kata, "reference", self.kata.reference, scenario, self._key(scenario))

    def oracle(self, scenario: dict) -> dict | None:
        if self.kata.oracle is None:
            return None
        return cached_observe(self.kata, "oracle", self.kata.oracle, scenario, self._key(scenario))


class LocalJudge(Judge):
    """A judge whose candidate is trusted code run in this process (a mutant, a
    reference, a test double) -- never a submission."""

    def __init__(self, kata: Kata, funcs: dict[str, Callable]) -> None:
        super().__init__(kata, None)
        self.funcs = funcs

    def candidate(self, scenario: dict) -> dict:
        try:
            obs = observe(self.kata, self.funcs, scenario)
        except Exception as exc:  # the mutant's own error, reported like a student's
            raise CandidateRaised({"type": type(exc).__name__, "message": str(exc)[:500], "where": []}) from None
        if len(self.calls) < self.max_log:
            self.calls.append(Call(scenario, {"ok": True, "obs": obs}))
        return obs
