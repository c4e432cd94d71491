"""Name the mistake behind a failing submission.

Trusted side only. The kata's mutants run here, in this process, on the
scenarios the candidate was called with (its failing calls first) and on the
kata's fixed probe battery; a mutant whose observations agree with the
candidate's names the mistake. Where behaviour cannot tell, static checks on
the submission's syntax tree refine the verdict. The candidate is only ever
reached through its worker child, and only plain data comes back.

Also here: the static half of the delegation policy (a forbidden built-in
named in the source) and advice that costs no points (a host-device sync per
tensor).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from ._errors import WorkerFault
from .judge import Call, CandidateRaised, Judge, LocalJudge, cached_observe, observe, scenario_key
from .katas import Kata
from .mistakes import Mistake, catalogue, indistinguishable, probes
from .results import CheckResult, Diagnosis, Status

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

Outcome = tuple[str, Any]  # ("ok", simplified observation) | ("raised", exception type name)


# --- comparing observations ------------------------------------------------------

_NUMBER_TYPES = ("float", "int", "npscalar", "bool")
_HALF = ("float16", "bfloat16")


def simplify(node: Any) -> Any:
    """An observation reduced to what matters for comparison: described return
    values become numbers, arrays or lists; dtypes, devices and container kinds go."""
    if isinstance(node, dict):
        kind = node.get("type")
        if isinstance(kind, str) and ("value" in node or "items" in node or kind in ("none", "other")):
            return _simplify_described(node)
        return {k: simplify(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [simplify(v) for v in node]
    if isinstance(node, np.ndarray):
        return _as_float(node, node.dtype.name) if node.dtype.kind in "biuf" else node
    if isinstance(node, bool):
        return float(node)
    return node


def _simplify_described(desc: dict) -> Any:
    kind = desc["type"]
    if kind == "none":
        return None
    if kind in _NUMBER_TYPES:
        return float(desc["value"])
    if kind in ("tensor", "ndarray"):
        value = np.asarray(desc["value"], dtype=np.float64)
        if value.size == 1 and value.ndim <= 1:
            # A 0-d tensor, a 1-element array and a float are the same answer
            # (half precision keeps its looser tolerance).
            half = desc.get("dtype") in _HALF
            return _as_float(value.reshape(()), desc.get("dtype")) if half else float(value.reshape(()))
        return _as_float(value, desc.get("dtype"))
    if kind in ("tuple", "list"):
        return [simplify(v) for v in desc.get("items", [])]
    if kind == "dict":
        return {k: simplify(v) for k, v in desc.get("items", {}).items()}
    return ("other", desc.get("pytype", ""))


class _Half(np.ndarray):
    """Marks arrays that came from float16 tensors: compared more loosely."""


def _as_float(value: np.ndarray, dtype: Any) -> np.ndarray:
    value = np.asarray(value, dtype=np.float64)
    return value.view(_Half) if dtype in _HALF else value


def same(a: Any, b: Any) -> bool:
    """Tolerant equality of simplified observations: numbers and arrays close
    (NaN equals NaN, infinities by sign), same structure everywhere else."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return _arrays_close(_array(a), _array(b))
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and _arrays_close(
            np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _array(x: Any) -> Any:
    return np.asarray(float(x)) if isinstance(x, (int, float)) and not isinstance(x, bool) else x


def _arrays_close(a: Any, b: Any) -> bool:
    # Called thousands of times per diagnosis on tiny arrays: avoid np.allclose's
    # overhead and take the exact-equality shortcut first.
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        return False
    if a.shape != b.shape:
        return False
    half = isinstance(a, _Half) or isinstance(b, _Half)
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.size == 0 or np.array_equal(x, y, equal_nan=True):
        return True
    nan_x, nan_y = np.isnan(x), np.isnan(y)
    inf_x, inf_y = np.isinf(x), np.isinf(y)
    if (nan_x != nan_y).any() or (inf_x != inf_y).any() or (x[inf_x] != y[inf_y]).any():
        return False
    finite = ~(nan_x | inf_x)
    xf, yf = x[finite], y[finite]
    if xf.size == 0:
        return True
    scale = max(float(np.abs(xf).max()), float(np.abs(yf).max()))
    rtol = 3e-3 if half else 1e-4
    atol = rtol * 1e-2 * scale + 1e-30
    return bool((np.abs(xf - yf) <= atol + rtol * np.abs(yf)).all())


def agree(a: Outcome | None, b: Outcome | None) -> bool:
    if a is None or b is None:
        return False
    if a[0] != b[0]:
        return False
    # Any exception matches any exception: the same mistake raises AttributeError
    # in one shape of code and TypeError in another.
    return a[0] == "raised" or same(a[1], b[1])


# --- outcomes ------------------------------------------------------------------

def _ignored(kata: Kata) -> tuple[str, ...]:
    module = kata.mistakes_module()
    return tuple(getattr(module, "IGNORE_KEYS", ())) if module else ()


def _drop(outcome: Outcome, keys: tuple[str, ...]) -> Outcome:
    """A kata may declare observation keys that are no evidence of a mistake (``IGNORE_KEYS``)."""
    if outcome[0] == "ok" and keys and isinstance(outcome[1], dict):
        return "ok", {k: v for k, v in outcome[1].items() if k not in keys}
    return outcome


def reply_outcome(reply: dict) -> Outcome | None:
    """The candidate's outcome from a worker reply (None: delegated or unusable)."""
    if reply.get("delegated"):
        return None
    if reply.get("ok") and isinstance(reply.get("obs"), dict):
        return "ok", simplify(reply["obs"])
    if not reply.get("ok"):
        return "raised", str((reply.get("error") or {}).get("type", "Exception"))
    return None


_MUTANT_CACHE: dict[tuple[str, bytes], Outcome] = {}
_MUTANT_CACHE_MAX = 20000


def trusted_outcome(kata: Kata, funcs: dict[str, Callable], scenario: dict) -> Outcome:
    try:
        return "ok", simplify(observe(kata, funcs, scenario))
    except Exception as exc:  # a mutant's own error is its behaviour
        return "raised", type(exc).__name__


def mutant_outcome(kata: Kata, mistake: Mistake, scenario: dict, key: bytes | None = None) -> Outcome:
    cache_key = (mistake.id, key if key is not None else scenario_key(kata.harness, scenario))
    if cache_key not in _MUTANT_CACHE:
        if len(_MUTANT_CACHE) >= _MUTANT_CACHE_MAX:
            _MUTANT_CACHE.clear()
        _MUTANT_CACHE[cache_key] = _drop(trusted_outcome(kata, mistake.mutant, scenario), _ignored(kata))
    return _MUTANT_CACHE[cache_key]


def reference_outcome(kata: Kata, scenario: dict, key: bytes | None = None) -> Outcome:
    try:
        observed = cached_observe(kata, "reference", kata.reference, scenario, key)
        return _drop(("ok", simplify(observed)), _ignored(kata))
    except Exception as exc:
        return "raised", type(exc).__name__


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


def choose(books: dict[str, dict[tuple, bool]], mistakes: list[Mistake], tree: ast.Module | None,
           pairs: bool = True) -> list[Mistake]:
    """The mistakes to name: the best behavioural match (with its ties), refined by
    static checks, then a second mistake if one explains most of what the first
    leaves unexplained (a submission can make two mistakes at once)."""
    score = {mid: _share(book) for mid, book in books.items()}
    if not score:
        return []
    by_id = {m.id: m for m in mistakes}
    ranked = sorted(score.values(), reverse=True)
    best, runner_up = ranked[0], (ranked[1] if len(ranked) > 1 else 0.0)
    if best < MIN_AGREEMENT and not (best >= WEAK_AGREEMENT and best - runner_up >= WEAK_MARGIN):
        # No single mistake explains the code: two at once may (a function can hold two bugs).
        pair = best_pair(books, score, by_id, tree) if pairs else ()
        return [by_id[mid] for mid in pair] if pair else []
    matched = refine([m for m in mistakes if score[m.id] >= best - TIE_MARGIN], tree)
    first = books[matched[0].id]
    residue = {unit for unit, hit in first.items() if not hit}
    if len(residue) >= 2:
        taken = {m.id for m in matched}
        explains = {mid: sum(book.get(u, False) for u in residue) / len(residue)
                    for mid, book in books.items() if mid not in taken}
        # Ties (several mutants leave the same gradients alone) go to the one that fits best overall.
        extra = max(explains, key=lambda mid: (explains[mid], score[mid]), default=None)
        if extra is not None and explains[extra] >= MIN_AGREEMENT and (
                score[extra] >= WEAK_AGREEMENT * 0.8 or _share_apart(books[extra], first) >= MIN_AGREEMENT):
            matched.append(by_id[extra])
            return matched
    if residue and pairs:
        # The first mistake leaves units unexplained: a second one that the code shows
        # on its own units (and that keeps everything else consistent) is named too.
        second = _second(books, matched[0].id, {m.id for m in matched})
        if second is not None:
            matched.append(by_id[second])
    return matched


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


def _second(books: dict[str, dict[tuple, bool]], first: str, taken: set[str]) -> str | None:
    """A second mistake beside ``first``: the pair explains the code, the second adds proof."""
    alone = _share(books[first])
    best, best_cover = None, max(MIN_AGREEMENT, alone)
    for mid, book in books.items():
        if mid in taken or _proof(book, books[first]) < 2:
            continue
        cover = coverage(books[first], book)
        if cover > best_cover:
            best, best_cover = mid, cover
    return best


def _share_apart(book: dict[tuple, bool], first: dict[tuple, bool]) -> float:
    """A second mistake's agreement on the units the first one does not explain: two
    mistakes on disjoint behaviours (a missing plot line, a crash on an empty history)
    disagree with the candidate exactly where the other one shows."""
    return _share({unit: hit for unit, hit in book.items() if not first.get(unit, False)})


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


# --- static checks ---------------------------------------------------------------

def parse(source: bytes | str | None) -> ast.Module | None:
    if source is None:
        return None
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _is_main_guard(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return (isinstance(node, ast.If) and isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__")


def graded_nodes(tree: ast.Module) -> Iterable[ast.AST]:
    """Every node except those under ``if __name__ == "__main__":`` (a student's own
    checks against torch there are fine)."""
    for top in tree.body:
        if _is_main_guard(top):
            continue
        yield from ast.walk(top)


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _bound_locally(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ImportFrom) and not (node.module or "").startswith("torch"):
            names.update(a.asname or a.name for a in node.names)
    return names


def _torch_aliases(tree: ast.Module) -> set[str]:
    """Names bound to torch modules: ``import torch.nn.utils as u``, ``from torch.nn import utils``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith("torch"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch"):
            names.update(a.asname or a.name for a in node.names)
    return names


def _torchy(node: ast.AST, aliases: set[str]) -> bool:
    root = node
    while isinstance(root, (ast.Attribute, ast.Call, ast.Subscript)):
        root = root.value if not isinstance(root, ast.Call) else root.func
    text = ast.unparse(node)
    return (isinstance(root, ast.Name) and root.id in aliases) or any(
        word in text for word in ("torch", "utils", "clip_grad"))


def forbidden_references(tree: ast.Module, forbid: Iterable[str], own: Iterable[str] = ()) -> list[str]:
    """Forbidden built-ins the source names outside a ``__main__`` block: imports from
    torch, attribute accesses, unbound names and string constants (getattr tricks).

    ``own`` are the kata's function names: a forbidden name that is also the
    student's own function (``clip_grad_norm``) counts only when reached through torch.
    """
    forbid, own = set(forbid), set(own)
    if not forbid:
        return []
    local, docs = _bound_locally(tree), _docstrings(tree)
    hits: set[str] = set()
    aliases = _torch_aliases(tree)
    for node in graded_nodes(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch"):
            hits.update(a.name for a in node.names if a.name in forbid)
        elif isinstance(node, ast.Attribute) and node.attr in forbid:
            if node.attr not in own or _torchy(node.value, aliases):
                hits.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in forbid:
            if node.id not in local:
                hits.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if node.value in forbid and node.value not in own:
                hits.add(node.value)
    return sorted(hits)


def host_sync_in_loop(tree: ast.Module) -> bool:
    """``.item()`` (or ``.tolist()``) inside a loop: one host-device sync per tensor on a GPU."""
    for node in graded_nodes(tree):
        if isinstance(node, (ast.For, ast.While, ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)):
            for inner in ast.walk(node):
                if (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)
                        and inner.func.attr in ("item", "tolist") and not inner.args):
                    return True
    return False


HOST_SYNC = ("host-sync-per-tensor", "One host-device sync per tensor",
             "Your code calls .item() inside a loop over the gradients. Each call waits for the GPU to finish "
             "and copies a number back to the CPU, once per tensor.\nWhy it matters: a model has hundreds of "
             "parameter tensors, so clipping stalls the GPU hundreds of times per step (no points are taken "
             "off for this).\nFix: keep the norms as tensors (torch.stack them and take one vector_norm) and "
             "multiply by a clamped coefficient instead of branching on a Python number.")


def _advises_host_sync(kata: Kata) -> bool:
    """A kata whose loop must read numbers (a finite-difference check reads f's value
    at every step) opts out of the host-sync advice: ``HOST_SYNC_ADVICE = False``."""
    module = kata.mistakes_module()
    return bool(getattr(module, "HOST_SYNC_ADVICE", True)) if module else True


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


def _asker(judge: Judge) -> Callable[[dict], dict | None]:
    """Calls the candidate's living child directly: probes must not enter the
    judge's log, and a probe that kills the child must not count as a fault of the
    graded suite (the kata keeps the points its checks earned)."""
    gone = False

    def ask(scenario: dict) -> dict | None:
        nonlocal gone
        child = judge.child
        if gone or child is None or child.dead is not None:
            return None
        try:
            return child.call(judge.kata.harness, scenario)
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
