"""Shared scenario plumbing for the katas that take ``parameters``."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..values import to_numpy


def build(scenario: dict) -> tuple[list, Any]:
    """Parameters with grads set, and the container to pass to the function.

    scenario["params"]: list of {"value": array, "grad": array or None}
    scenario["order"]: indices into params, in the order they are passed
        (an index may repeat: a parameter listed twice)
    scenario["container"]: "list" | "tuple" | "generator" | "single"
    scenario["device"]: "cpu" (default) or "cuda"
    """
    import torch

    device = scenario.get("device", "cpu")
    params = []
    for spec in scenario["params"]:
        p = torch.nn.Parameter(torch.from_numpy(np.array(spec["value"])).to(device))
        if spec.get("grad") is not None:
            p.grad = torch.from_numpy(np.array(spec["grad"])).to(device)
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


def observe(params: Iterable) -> dict:
    """Values of every parameter and its grad after the call."""
    return {
        "grads": [None if p.grad is None else to_numpy(p.grad) for p in params],
        "params": [to_numpy(p) for p in params],
    }
