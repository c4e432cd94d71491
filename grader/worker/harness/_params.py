"""Shared scenario plumbing for the katas that take ``parameters``."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from ..shapes import ParamsObservation
from ..values import to_numpy


def build(scenario: Mapping[str, Any]) -> tuple[list, Any]:
    """Parameters with grads set, and the container to pass to the function.

    scenario["params"]: list of {"value": array, "grad": array or None}
    scenario["order"]: indices into params, in the order they are passed
        (an index may repeat: a parameter listed twice)
    scenario["container"]: "list" | "tuple" | "generator" | "single"
    scenario["device"]: "cpu" (default) or "cuda"
    scenario["torch_dtype"]: optional, e.g. "bfloat16" (which NumPy and the wire lack):
        values and grads are sent as float32 and cast here
    """
    import torch

    device = scenario.get("device", "cpu")
    cast = getattr(torch, scenario["torch_dtype"]) if scenario.get("torch_dtype") else None
    params = []
    for spec in scenario["params"]:
        p = torch.nn.Parameter(_tensor(spec["value"], device, cast))
        if spec.get("grad") is not None:
            p.grad = _tensor(spec["grad"], device, cast)
        params.append(p)
    order = scenario.get("order", list(range(len(params))))
    chosen = [params[i] for i in order]
    kind = scenario.get("container", "list")
    if kind == "single":
        container: Any = chosen[0]
    elif kind == "tuple":
        container = tuple(chosen)
    elif kind == "generator":
        container = (p for p in chosen)
    else:
        container = list(chosen)
    return params, container


def _tensor(values: Any, device: str, cast: Any) -> Any:
    import torch

    t = torch.from_numpy(np.array(values)).to(device)
    return t if cast is None else t.to(cast)


def observe(params: Iterable) -> ParamsObservation:
    """Values of every parameter and its grad after the call."""
    return {
        "grads": [None if p.grad is None else to_numpy(p.grad) for p in params],
        "params": [to_numpy(p) for p in params],
    }
