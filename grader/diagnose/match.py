"""Naming the mistake from behaviour: the evidence, each mutant's ledger of agreements with
the candidate, and the choice of the mistake(s) to name."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..judge import Call, scenario_key
from ..katas import Kata
from ..mistakes import Mistake, catalogue, indistinguishable, probes
from .compare import Outcome, _drop, _ignored, _MUTANT_CACHE_MAX, agree, mutant_outcome, reference_outcome, \
    reply_outcome, same

# A mutant is named when it agrees with the candidate on at least this share of
# the informative scenarios (those where either of them differs from the
# reference): a student's code is rarely a perfect copy of a mutant, e.g. it may
# handle a tiny-norm corner differently while making the same mistake.
MIN_AGREEMENT = 0.75
# Below that, the best mutant is still named if it agrees on at least half of the
# units and clearly beats every other (a second mistake spoils some units).
WEAK_AGREEMENT = 0.5
WEAK_MARGIN = 0.1
# Mutants within this margin of the best are named together (ambiguous).
TIE_MARGIN = 0.02
MAX_RECORDED = 24  # recorded suite calls used as evidence, failing ones first


# --- behavioural matching ----------------------------------------------------------

@dataclass
class Evidence:
    scenario: dict
    candidate: Outcome
    reference: Outcome
    key: bytes


def _evidence(kata: Kata, scenario: dict, outcome: Outcome) -> Evidence:
    key = scenario_key(kata.harness, scenario)  # one encoding for every cache the scenario meets
    return Evidence(scenario, _drop(outcome, _ignored(kata)), reference_outcome(kata, scenario, key), key)


def evidence_from_calls(kata: Kata, calls: Iterable[Call]) -> list[Evidence]:
    """The recorded suite calls, failing ones (candidate != reference) first."""
    failing: list[Evidence] = []
    passing: list[Evidence] = []
    for call in calls:
        if "profile" in call.scenario:
            continue  # a performance measurement (counts, timings), not behaviour to match
        outcome = reply_outcome(call.reply)
        if outcome is None:
            continue
        ev = _evidence(kata, call.scenario, outcome)
        (passing if agree(outcome, ev.reference) else failing).append(ev)
    return (failing + passing)[:MAX_RECORDED] if failing else passing[: MAX_RECORDED // 2]


def evidence_from_probes(kata: Kata, ask: Callable[[dict], dict | None]) -> list[Evidence]:
    """The kata's probe battery, put to the candidate through ``ask`` (a worker call)."""
    out = []
    for scenario in probes(kata):
        reply = ask(scenario)
        if reply is None:
            break  # the worker is gone; keep what we have
        outcome = reply_outcome(reply)
        if outcome is not None:
            out.append(_evidence(kata, scenario, outcome))
    return out


def units(candidate: Outcome, mutant: Outcome, reference: Outcome) -> Iterable[tuple[str, Any, Any, Any, Callable]]:
    """The comparison units of one scenario: one per observation key when all three
    returned, else the whole outcome. Each unit is (name, the candidate's part, the
    mutant's part, the reference's part, the equality to compare them with).
    Per key, so a student who makes the catalogued mistake but returns, say, None
    instead of a norm still matches on the gradients."""
    whole = (candidate, mutant, reference)
    if all(o[0] == "ok" and isinstance(o[1], dict) for o in whole):
        c, m, r = (o[1] for o in whole)
        for key in sorted(set(c) | set(m) | set(r)):
            yield key, c.get(key), m.get(key), r.get(key), same
    else:
        yield "", candidate, mutant, reference, agree


# (kata, mistake, scenario key, unit) -> does the mutant agree with the reference there?
# The same for every submission that meets the scenario, as mutant_outcome is.
_MUTANT_AGREES: dict[tuple, bool] = {}


def ledger(kata: Kata, evidence: list[Evidence], mistakes: list[Mistake]) -> dict[str, dict[tuple, bool]]:
    """Per mistake: its informative comparison units (where the candidate or the
    mutant differs from the reference), each marked True where the mutant agrees
    with the candidate."""
    if len(_MUTANT_AGREES) >= _MUTANT_CACHE_MAX:
        _MUTANT_AGREES.clear()
    candidate_ok: dict[tuple, bool] = {}  # the same for every mistake
    out = {}
    for mistake in mistakes:
        book = {}
        for i, ev in enumerate(evidence):
            mine = mutant_outcome(kata, mistake, ev.scenario, ev.key)
            for name, cand, mut, ref, equal in units(ev.candidate, mine, ev.reference):
                if (i, name) not in candidate_ok:
                    candidate_ok[(i, name)] = equal(cand, ref)
                known = (kata.slug, mistake.id, ev.key, name)
                if known not in _MUTANT_AGREES:
                    _MUTANT_AGREES[known] = equal(mut, ref)
                if not (candidate_ok[(i, name)] and _MUTANT_AGREES[known]):
                    book[(i, name)] = equal(cand, mut)
        out[mistake.id] = book
    return out


def _share(book: dict[tuple, bool]) -> float:
    return sum(book.values()) / len(book) if book else 0.0


def choose(books: dict[str, dict[tuple, bool]], mistakes: list[Mistake], tree: ast.Module | None) -> list[Mistake]:
    """The mistakes to name: the best behavioural match (with its ties), refined by
    static checks, then a second mistake if one explains what the first leaves
    unexplained (a submission can make two mistakes at once, :func:`second`); when no
    single mistake matches, the pair that explains the code together (:func:`best_pair`)."""
    score = {mid: _share(book) for mid, book in books.items()}
    if not score:
        return []
    by_id = {m.id: m for m in mistakes}
    ranked = sorted(score.values(), reverse=True)
    best, runner_up = ranked[0], (ranked[1] if len(ranked) > 1 else 0.0)
    if best < MIN_AGREEMENT and not (best >= WEAK_AGREEMENT and best - runner_up >= WEAK_MARGIN):
        # No single mistake explains the code: two at once may (a function can hold two bugs).
        return [by_id[mid] for mid in best_pair(books, score, by_id, tree)]
    matched = refine([m for m in mistakes if score[m.id] >= best - TIE_MARGIN], tree)
    extra = second(books, score, matched[0].id, {m.id for m in matched})
    return matched + ([by_id[extra]] if extra is not None else [])


# Pairs are tried among this many best single matches (cost: K^2 / 2 coverage counts).
PAIR_CANDIDATES = 8
# Pairs within this much coverage of the best are decided by the static checks first:
# a mutant that raises everywhere "explains" every crash of a code with two bugs.
PAIR_MARGIN = 0.1
# Each mistake of a pair must match the code on at least this share of its own units.
PAIR_FLOOR = 0.2


def lookup(book: dict[tuple, bool], unit: tuple) -> bool:
    """Does the code behave as ``book``'s mutant on ``unit`` (scenario, key)?

    A scenario's units are its observation keys, or the whole outcome ("") where
    something raised, so two books may cut the same scenario differently: the
    whole outcome stands for every key, and every key for the whole. A unit
    missing altogether is one where the mutant and the code both behave as the
    reference: consistent with that mistake."""
    if unit in book:
        return book[unit]
    scenario, key = unit
    if (scenario, "") in book:
        return book[(scenario, "")]
    if key == "":
        parts = [hit for (i, _), hit in book.items() if i == scenario]
        return all(parts)
    return True


def _proof(book: dict[tuple, bool], other: dict[tuple, bool]) -> int:
    """Units where ``book``'s mutant matches the code and ``other``'s does not:
    evidence of this mistake that the other cannot account for."""
    return sum(1 for u, hit in book.items() if hit and not lookup(other, u))


def coverage(a: dict[tuple, bool], b: dict[tuple, bool]) -> float:
    """Share of the units informative for either mistake where the code behaves as one of them."""
    units = set(a) | set(b)
    if not units:
        return 0.0
    return sum(1 for u in units if lookup(a, u) or lookup(b, u)) / len(units)


def best_pair(books: dict[str, dict[tuple, bool]], score: dict[str, float], by_id: dict[str, Mistake],
              tree: ast.Module | None) -> tuple[str, ...]:
    """Two mistakes that together explain the code, each with evidence of its own; () if none.
    Pairs that explain it about equally well are told apart by the static checks (one
    that fires wins, one that does not loses), then by how well each mistake fits alone."""
    top = sorted(score, key=lambda mid: score[mid], reverse=True)[:PAIR_CANDIDATES]
    pairs = {}
    for i, a in enumerate(top):
        for b in top[i + 1:]:
            if min(score[a], score[b]) < PAIR_FLOOR:
                continue  # a mutant wrong almost everywhere "explains" the rest by being consistent with it
            if min(_proof(books[a], books[b]), _proof(books[b], books[a])) >= 1:
                cover = coverage(books[a], books[b])
                if cover >= MIN_AGREEMENT:
                    pairs[(a, b)] = cover
    if not pairs:
        return ()
    best = max(pairs.values())

    def static_vote(pair: tuple[str, str]) -> int:
        if tree is None:
            return 0
        return sum((1 if _fires(by_id[m], tree) else -1) for m in pair if by_id[m].static is not None)

    close_ones = [p for p, c in pairs.items() if c >= best - PAIR_MARGIN]
    return max(close_ones, key=lambda p: (static_vote(p), pairs[p], score[p[0]] + score[p[1]]))


def second(books: dict[str, dict[tuple, bool]], score: dict[str, float], first: str,
           taken: set[str]) -> str | None:
    """A second mistake beside ``first``, or None.

    One rule: a candidate shows on its own (at least two units where the code behaves
    as it and not as ``first``), and with ``first`` it explains the code better than
    ``first`` alone (:func:`coverage`). Of those, the one that explains most of what
    ``first`` leaves unexplained wins; a tie (several mutants leave the same gradients
    alone) goes to the pair that explains the code best, then to the mistake that fits
    best on its own."""
    book = books[first]
    residue = [unit for unit, hit in book.items() if not hit]
    if not residue:
        return None
    floor = max(MIN_AGREEMENT, _share(book))
    rank: dict[str, tuple[float, float, float]] = {}
    for mid, other in books.items():
        if mid in taken or _proof(other, book) < 2:
            continue
        cover = coverage(book, other)
        if cover > floor:
            rank[mid] = (sum(other.get(u, False) for u in residue) / len(residue), cover, score[mid])
    return max(rank, key=lambda mid: rank[mid], default=None)


def refine(matched: list[Mistake], tree: ast.Module | None) -> list[Mistake]:
    """Where several mistakes behave alike, a static check that fires decides; one
    that does not fire rules its mistake out (unless nothing would be left)."""
    if tree is None:
        return matched
    fired = [m for m in matched if m.static is not None and _fires(m, tree)]
    if fired:
        return fired
    quiet = [m for m in matched if m.static is None]
    return quiet or matched


def _fires(mistake: Mistake, tree: ast.Module) -> bool:
    if mistake.static is None:  # no static check to fire
        return False
    try:
        return bool(mistake.static(tree))
    except Exception:  # a detector bug must not break grading
        return False


def behavioural(kata: Kata, evidence: list[Evidence], tree: ast.Module | None) -> list[Mistake]:
    mistakes = catalogue(kata)
    # Code that raises on every call (a blocked import, a typo) shows no behaviour to
    # match: a mutant that raises on most inputs would "explain" it. (A performance
    # profile is a measurement, not behaviour.)
    if evidence and not any(ev.candidate[0] == "ok" and "profile" not in ev.scenario for ev in evidence):
        return []
    return choose(ledger(kata, evidence, mistakes), mistakes, tree)


def same_mistake(kata: Kata, a: str, b: str) -> bool:
    """True if ``a`` and ``b`` name the same mistake, or ones declared indistinguishable."""
    return a == b or any(a in g and b in g for g in indistinguishable(kata))
