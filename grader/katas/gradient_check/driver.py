"""Driver for ``numerical_gradient(f, theta, eps=1e-5)`` and ``relative_error(a, b)``.

The function ``f`` is built here, inside the worker, from a plain description,
so nothing callable ever crosses the channel.

Scenario (every key optional except as noted):
    "function": {"kind": "quadratic", "A": (d, d), "b": (d,)}
             or {"kind": "smooth", "w", "c_sin", "c_exp", "c_cube": (d,), "q": float}
             d is theta.size; theta is flattened before f is applied.
    "theta": float64 array (any shape); required with "function".
    "as": "numpy" | "tensor" -- how theta (and the pairs) are handed over.
    "eps": float, or absent to rely on the default.
    "pairs": [{"a": array, "b": array}, ...] for relative_error.
"""

from __future__ import annotations

from typing import Any, Callable, Required, TypedDict

import numpy as np

from gradkata.worker.shapes import Array, Value
from gradkata.worker.values import describe, to_numpy


class Function(TypedDict, total=False):
    """``f``: "quadratic" (A, b) or "smooth" (w, c_sin, c_exp, c_cube, q)."""

    kind: Required[str]
    A: Array
    b: Array
    w: Array | list[float]
    c_sin: Array | list[float]
    c_exp: Array | list[float]
    c_cube: Array | list[float]
    q: float


class Pair(TypedDict):
    a: Array
    b: Array


# "as" (how theta and the pairs are handed over: "numpy" | "tensor") is a keyword, hence this spelling.
# Every key is optional: "function" with "theta" asks for numerical_gradient, "pairs" for relative_error.
Scenario = TypedDict("Scenario", {"function": Function, "theta": Array, "as": str, "eps": float | None,
                                  "pairs": list[Pair]}, total=False)


class Observation(TypedDict, total=False):
    gradient: Value
    theta_after: Array
    dtypes_seen: list[str]
    relative_errors: list[Value]


def evaluate(spec: Function, theta: Any) -> Any:
    """f(theta) for a NumPy array or a tensor, computed in theta's own dtype.

    Returns a 0-d array or tensor; the trusted side differentiates the tensor
    version with autograd to get the exact gradient.
    """
    import torch

    is_tensor = isinstance(theta, torch.Tensor)
    xp = torch if is_tensor else np
    x = theta.reshape(-1)

    def const(a: Any) -> Any:
        a = np.asarray(a)
        return torch.as_tensor(a, dtype=x.dtype, device=x.device) if is_tensor else a.astype(x.dtype)

    if spec["kind"] == "quadratic":
        A, b = const(spec["A"]), const(spec["b"])
        return 0.5 * (x @ (A @ x)) + b @ x
    if spec["kind"] == "smooth":
        w, c_sin, c_exp, c_cube = (const(spec[k]) for k in ("w", "c_sin", "c_exp", "c_cube"))
        coupled = x.sum()
        return ((c_sin * xp.sin(w * x)).sum() + (c_exp * xp.exp(0.5 * x)).sum() + (c_cube * x**3).sum()
                + float(spec["q"]) * coupled * coupled)
    raise ValueError(f"unknown function kind {spec['kind']!r}")


class Objective:
    """The f handed to the student: returns a Python float and notes the dtypes it saw.

    The number of calls is not observed: a correct central difference may call
    f 2d or 2d + 1 times.
    """

    def __init__(self, spec: Function) -> None:
        self.spec = spec
        self.dtypes: set[str] = set()

    def __call__(self, theta: Any) -> float:
        import torch

        dtype = theta.dtype if isinstance(theta, (np.ndarray, torch.Tensor)) else type(theta)
        self.dtypes.add(str(dtype).removeprefix("torch."))
        if isinstance(theta, torch.Tensor):
            theta = theta.detach()
        elif not isinstance(theta, np.ndarray):
            theta = np.asarray(theta, dtype=np.float64)
        return float(evaluate(self.spec, theta))


def _hand_over(array: np.ndarray, kind: str) -> Any:
    import torch

    array = np.array(array, copy=True)
    return torch.from_numpy(array) if kind == "tensor" else array


def _as_numpy(value: Any) -> np.ndarray:
    import torch

    return to_numpy(value) if isinstance(value, torch.Tensor) else np.array(value, copy=True)


def _gradient(fn: Callable, scenario: Scenario) -> Observation:
    f = Objective(scenario["function"])
    theta = _hand_over(scenario["theta"], scenario.get("as", "numpy"))
    if scenario.get("eps") is None:
        returned = fn(f, theta)
    else:
        returned = fn(f, theta, scenario["eps"])
    return {
        "gradient": describe(returned),
        "theta_after": _as_numpy(theta),
        "dtypes_seen": sorted(f.dtypes),
    }


def run(funcs: dict, scenario: Scenario) -> Observation:
    obs: Observation = {}
    kind = scenario.get("as", "numpy")
    if "function" in scenario:
        obs.update(_gradient(funcs["numerical_gradient"], scenario))
    if "pairs" in scenario:
        fn = funcs["relative_error"]
        obs["relative_errors"] = [describe(fn(_hand_over(p["a"], kind), _hand_over(p["b"], kind)))
                                  for p in scenario["pairs"]]
    return obs
