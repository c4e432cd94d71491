"""Comparing observations: a candidate's, a mutant's and the reference's outcomes, simplified
and compared with one tolerance (:func:`gradkata.suitekit.tolerance`, its matching flavour)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..judge import cached_observe, observe, scenario_key
from ..katas import Kata
from ..mistakes import Mistake
from ..suitekit import tolerance

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


_TIGHT, _LOOSE = tolerance("full", matching=True), tolerance("half", matching=True)


def _arrays_close(a: Any, b: Any) -> bool:
    # Called thousands of times per diagnosis on tiny arrays: avoid np.allclose's
    # overhead and take the exact-equality shortcut first.
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        return False
    if a.shape != b.shape:
        return False
    if a.dtype == b.dtype and a.tobytes() == b.tobytes():
        return True  # bit for bit (NaNs too), as a candidate and a mutant are on most keys
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
    rtol, ascale = _LOOSE if half else _TIGHT
    atol = ascale * scale + 1e-30
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
