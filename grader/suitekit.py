"""Tools for writing hidden suites: strategies, summaries of calls, comparisons
that fail with a student-readable message.

Every comparison works on observations (plain data decoded from the wire),
never on an object the student made.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ._errors import GraderBug, SuiteSignal
from .worker.shapes import Param, ParamsScenario

points = pytest.mark.points
visible = pytest.mark.visible


class Mismatch(SuiteSignal, AssertionError):
    """A check failed; the message is shown to the student as it is."""


def sanity(condition: bool, message: str) -> None:
    """Stop the check as the grader's error (:class:`GraderBug`) unless ``condition`` holds.

    For what the suite assumes of its own oracles (the reference agrees with
    PyTorch): a failure there must never be charged to the student.
    """
    if not condition:
        raise GraderBug(f"grader bug: {message}")


# --- summaries ---------------------------------------------------------------

def fmt_array(a: Any, limit: int = 6) -> str:
    if a is None:
        return "None"
    a = np.asarray(a)
    flat = a.ravel()
    body = ", ".join(fmt_num(x) for x in flat[:limit]) + (", …" if flat.size > limit else "")
    shape = "" if a.ndim == 1 and flat.size <= limit else f"{a.dtype.name}{list(a.shape)} "
    return f"{shape}[{body}]" if a.ndim else fmt_num(a.item())


def fmt_num(x: Any) -> str:
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:.6g}"


def fmt_value(desc: Mapping[str, Any]) -> str:
    """A described return value, as the student would recognise it."""
    t = desc.get("type")
    if t == "none":
        return "None"
    if t in ("float", "int", "bool", "npscalar"):
        return fmt_num(desc["value"])
    if t == "tensor":
        return f"tensor({fmt_array(desc['value'])}, dtype={desc['dtype']})"
    if t == "ndarray":
        return f"array({fmt_array(desc['value'])})"
    if t in ("tuple", "list"):
        inner = ", ".join(fmt_value(x) for x in desc["items"][:4])
        return f"({inner}{', …' if desc['length'] > 4 else ''})" if t == "tuple" else f"[{inner}]"
    return desc.get("repr", t or "?")


def fmt_params(scenario: Mapping[str, Any]) -> str:
    params = scenario["params"]
    order = scenario.get("order", list(range(len(params))))
    grads = [fmt_array(params[i]["grad"]) if params[i]["grad"] is not None else "None" for i in order[:4]]
    more = ", …" if len(order) > 4 else ""
    kind = scenario.get("container", "list")
    if kind == "single":
        return f"a single tensor with grad {grads[0]}"
    dtype = scenario.get("torch_dtype") or (np.asarray(params[0]["value"]).dtype.name if params else "")
    where = " on cuda" if scenario.get("device") == "cuda" else ""
    return f"a {kind} of {len(order)} {dtype} parameters{where} with grads [{', '.join(grads)}{more}]"


# --- comparisons -------------------------------------------------------------

def number(desc: Mapping[str, Any]) -> float | None:
    """The number a function returned, or None if it returned something else."""
    t = desc.get("type")
    if t in ("float", "int", "npscalar"):
        return float(desc["value"])
    if t in ("tensor", "ndarray") and np.asarray(desc["value"]).size == 1:
        return float(np.asarray(desc["value"]).reshape(()))
    return None


def trusted_number(desc: Mapping[str, Any]) -> float:
    """The number the reference (or PyTorch) returned: it always returns one, so
    anything else is the grader's error (:class:`GraderBug`), never the student's."""
    value = number(desc)
    if value is None:
        raise GraderBug(f"grader bug: a trusted function returned {desc.get('type')!r}, not a number")
    return value


# (rtol, atol scale) per dtype: a check compares the candidate with the reference.
CHECK_TOLERANCE = {"float16": (2e-3, 1e-3), "bfloat16": (1e-2, 1e-2), "float32": (1e-5, 1e-6)}
CHECK_TOLERANCE_DEFAULT = (2e-6, 1e-9)  # float64
# Naming a mistake compares the candidate with a mutant, two different codes computing in
# their own order: looser, and one level for every full-precision dtype (the diagnosis
# compares simplified observations, whose dtype is gone but for half precision).
MATCH_TOLERANCE = {"half": (3e-3, 3e-3 * 1e-2), "full": (1e-4, 1e-4 * 1e-2)}


def tolerance(dtype: str, *, matching: bool = False) -> tuple[float, float]:
    """(rtol, atol scale): the atol is this scale times the largest finite value compared.

    A check: PyTorch applies its coefficient even at the threshold, so anything
    tighter than 1e-6 would punish an `if norm > max_norm` guard. ``matching``: the
    diagnosis's tolerance (:mod:`gradkata.diagnose.compare`), ``dtype`` "half" or any other."""
    if matching:
        return MATCH_TOLERANCE["half" if dtype in ("half", "float16", "bfloat16") else "full"]
    return CHECK_TOLERANCE.get(dtype, CHECK_TOLERANCE_DEFAULT)


def _agreement(got: np.ndarray, want: np.ndarray, dtype: str) -> np.ndarray:
    """``np.isclose(got, want, rtol, atol, equal_nan=True)`` with atol scaled to the
    largest finite wanted value; written out because isclose's own overhead is
    twice the arithmetic, and a submission's grading makes thousands of these."""
    rtol, ascale = tolerance(dtype)
    abs_want = np.abs(want)
    finite_want = np.isfinite(want)
    largest = abs_want[finite_want]
    atol = ascale * (float(largest.max()) if largest.size else 0.0) + 1e-300
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.abs(got - want) <= atol + rtol * abs_want
    ok &= finite_want & np.isfinite(got)  # the tolerance is for finite pairs only
    ok |= got == want  # equal infinities
    ok |= np.isnan(got) & np.isnan(want)
    return ok


def close(got: Any, want: Any, dtype: str = "float64") -> bool:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return False
    return bool(_agreement(got, want, dtype).all())


def first_difference(got: Any, want: Any, dtype: str = "float64", limit: int = 6) -> str:
    """Where two same-shaped arrays first disagree, when the summaries would not show it."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape or want.size <= limit:
        return ""
    bad = ~_agreement(got, want, dtype)
    if not bad.any():
        return ""
    index = np.unravel_index(int(np.argmax(bad)), want.shape)
    return f"; first difference at index {list(map(int, index))}: {fmt_num(got[index])} instead of " \
           f"{fmt_num(want[index])}"


def expect_number(call: str, got: dict, want: float, oracle: float | None, dtype: str, what: str = "") -> None:
    value = number(got)
    torch_says = f" (PyTorch gives {fmt_num(oracle)})" if oracle is not None else ""
    if value is None:
        raise Mismatch(f"Called {call}. Returned {fmt_value(got)}, expected {what or 'a number'} "
                       f"{fmt_num(want)}{torch_says}.")
    if not close(value, want, dtype):
        raise Mismatch(f"Called {call}. Returned {fmt_num(value)}, expected {fmt_num(want)}{torch_says}"
                       f"{': ' + what if what else ''}.")


def expect_arrays(call: str, label: str, got: list, want: list, oracle: list | None, dtype: str | None = None,
                  oracle_name: str = "PyTorch") -> None:
    """``dtype``: the tolerance's dtype when the arrays were widened for the wire (bfloat16 -> float32).
    ``oracle_name``: who computed ``oracle`` (say "PyTorch" only for PyTorch's own output)."""
    for i, (g, w) in enumerate(zip(got, want)):
        o = oracle[i] if oracle is not None else None
        torch_says = f" ({oracle_name} gives {fmt_array(o)})" if o is not None else ""
        if (g is None) != (w is None):
            raise Mismatch(f"Called {call}. Afterwards {label}[{i}] is {fmt_array(g)}, expected {fmt_array(w)}.")
        if g is None:
            continue
        if np.asarray(g).shape != np.asarray(w).shape:
            raise Mismatch(f"Called {call}. Afterwards {label}[{i}] has shape {list(np.shape(g))}, "
                           f"expected {list(np.shape(w))}.")
        kind = dtype or np.asarray(w).dtype.name
        if not close(g, w, kind):
            raise Mismatch(f"Called {call}. Afterwards {label}[{i}] is {fmt_array(g)}, "
                           f"expected {fmt_array(w)}{torch_says}{first_difference(g, w, kind)}.")
    if len(got) != len(want):
        raise Mismatch(f"Called {call}. Observed {len(got)} {label}, expected {len(want)}.")


def expect_untouched(call: str, g_after: Any, g_before: Any) -> None:
    """The NumPy katas must return a new array, not modify the caller's."""
    if not np.array_equal(g_after, g_before, equal_nan=True):
        raise Mismatch(f"Called {call}. Afterwards g is {fmt_array(g_after)}: the caller's array was "
                       "modified. Leave g alone and return a new array.")


# --- strategies ----------------------------------------------------------------

SCALES = (1e-12, 1e-3, 1.0, 1e3, 1e12)
RATIOS = (0.0, 0.01, 0.5, 1.0, 2.0, 100.0, math.inf)


def global_norm(scenario: Mapping[str, Any]) -> float:
    params, order = scenario["params"], scenario.get("order", range(len(scenario["params"])))
    grads = [np.asarray(params[i]["grad"], dtype=np.float64) for i in order if params[i]["grad"] is not None]
    return math.sqrt(sum(float((g * g).sum()) for g in grads))


# Strategies built once and reused by every draw. A strategy built inside a composite is
# a new object at every draw, and Hypothesis validates each new one before drawing from it
# (a third of a property test's drawing time). The draws are the same: a strategy's
# choices depend on its arguments only, never on the object's identity.
_FLOATS = st.floats(-10, 10, width=32, allow_subnormal=False)
_SAMPLED: dict[str, st.SearchStrategy] = {}
_INTEGERS: dict[tuple[int, int], st.SearchStrategy[int]] = {}
_SHAPES: dict[tuple[int, int], st.SearchStrategy[tuple[int, ...]]] = {}
_ARRAYS: dict[tuple[Any, tuple[int, ...]], st.SearchStrategy[np.ndarray]] = {}


def _sampled(options: tuple) -> st.SearchStrategy:
    key = repr(options)  # not the tuple: 0.0 == -0.0 and 1 == 1.0 == True would share one strategy
    if key not in _SAMPLED:
        _SAMPLED[key] = st.sampled_from(options)
    return _SAMPLED[key]


def _integers(low: int, high: int) -> st.SearchStrategy[int]:
    if (low, high) not in _INTEGERS:
        _INTEGERS[low, high] = st.integers(low, high)
    return _INTEGERS[low, high]


def _shapes(max_dims: int, max_side: int) -> st.SearchStrategy[tuple[int, ...]]:
    if (max_dims, max_side) not in _SHAPES:
        _SHAPES[max_dims, max_side] = hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=max_side)
    return _SHAPES[max_dims, max_side]


def _arrays(dtype: Any, shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Arrays of ``dtype`` and ``shape`` with elements in [-10, 10] (float32 values)."""
    if (dtype, shape) not in _ARRAYS:
        _ARRAYS[dtype, shape] = hnp.arrays(dtype, shape, elements=_FLOATS)
    return _ARRAYS[dtype, shape]


@st.composite
def numpy_vectors(draw, dtypes=("float32", "float64"), max_dims: int = 2, max_side: int = 8) -> np.ndarray:
    """A NumPy gradient: 1-D or 2-D, float32 or float64, at one of SCALES."""
    dtype = draw(_sampled(tuple(dtypes)))
    scale = draw(_sampled(SCALES))
    shape = draw(_shapes(max_dims, max_side))
    g = draw(_arrays(np.float64, shape))
    # Components under 1e-4 (before scaling) become exact zeros: their squares
    # would underflow in float32, and the norm would then depend on the order
    # of accumulation rather than on whether the code is right.
    return (np.where(np.abs(g) < 1e-4, 0.0, g) * scale).astype(dtype)


@st.composite
def param_sets(draw, dtypes=("float32", "float64"), containers=("list", "tuple", "generator", "single"),
               max_params: int = 4, allow_none: bool = True, allow_empty: bool = True) -> ParamsScenario:
    """Parameters with gradients: shapes, dtypes, scales, some grads None, any container."""
    dtype = draw(_sampled(tuple(dtypes)))
    scale = draw(_sampled(SCALES))
    container = draw(_sampled(tuple(containers)))
    low = 1 if (container == "single" or not allow_empty) else 0
    n = 1 if container == "single" else draw(_integers(low, max_params))
    params: list[Param] = []
    for _ in range(n):
        shape = draw(_shapes(2, 5))
        value = draw(_arrays(dtype, shape))
        grad = draw(_arrays(dtype, shape)) * np.asarray(scale, dtype=dtype)
        # About one grad in five is None, as for frozen or unused parameters.
        has_grad = not allow_none or container == "single" or draw(_integers(0, 4)) > 0
        params.append({"value": value, "grad": grad if has_grad else None})
    return {"params": params, "order": list(range(n)), "container": container}
