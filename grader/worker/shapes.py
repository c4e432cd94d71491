"""The wire shapes several katas share: a scenario's parts and an observation's parts.

Each kata's ``driver.py`` declares its own ``Scenario`` (what the suite and the
probes send) and ``Observation`` (what the driver answers) as TypedDicts at its
top, built from these parts; the kata's suite and catalogue import them from the
driver. This module is on the untrusted side (the worker copies it with the
drivers), so it imports only the standard library and NumPy.

Scenarios travel as plain data (:mod:`gradkata.worker.wire`): arrays,
numbers, strings, lists and dicts, nothing else.
"""

from __future__ import annotations

from typing import Any, Required, Sequence, TypedDict, final

import numpy as np

Array = np.ndarray
# What gradkata.worker.values.describe makes of a returned value: {"type": ..., ...}.
Value = dict[str, Any]


class Param(TypedDict, total=False):
    """One parameter: its data and its gradient (None: no gradient)."""

    value: Required[Array]
    grad: Array | None


class ParamsScenario(TypedDict, total=False):
    """Parameters handed to a function that takes ``parameters`` (:func:`gradkata.worker.harness._params.build`)."""

    params: Required[list[Param]]
    order: list[int]  # indices into params, in the order they are passed (one may repeat)
    container: str  # "list" | "tuple" | "generator" | "single"
    device: str  # "cpu" (default) | "cuda"
    torch_dtype: str  # a dtype NumPy lacks ("bfloat16"): the arrays are float32, cast in the worker


class ParamsObservation(TypedDict):
    """Every parameter and its gradient after the call (:func:`gradkata.worker.harness._params.observe`)."""

    grads: list[Array | None]
    params: list[Array]


class ProfileSpec(TypedDict, total=False):
    """A performance-tier measurement (:func:`gradkata.worker.harness._perf.profile`)."""

    k: int
    numel: int
    seed: int
    dtype: str
    scale: float
    cuda: dict[str, Any] | None


# Counts per parameter count ("k", "2k"), and "cuda": timings or None.
Profile = dict[str, Any]


class ModelSpec(TypedDict, total=False):
    """A seeded MLP (:func:`gradkata.worker.harness._training.build_model`)."""

    sizes: Required[list[int]]
    seed: int
    gain: float
    dtype: str
    frozen: list[int]  # parameter indices with requires_grad off
    unused: bool  # a parameter the forward never touches (its grad stays None)
    dropout: float  # a Dropout after each hidden layer


def model_spec(sizes: Sequence[int], seed: int = 0, gain: float = 1.0, *, frozen: Sequence[int] = (),
               unused: bool = False, dropout: float = 0.0) -> ModelSpec:
    """A :class:`ModelSpec` with only the options asked for (an absent key builds the plain model)."""
    spec: ModelSpec = {"sizes": list(sizes), "seed": seed, "gain": gain}
    if frozen:
        spec["frozen"] = list(frozen)
    if unused:
        spec["unused"] = True
    if dropout:
        spec["dropout"] = float(dropout)
    return spec


class OptimizerSpec(TypedDict, total=False):
    """:func:`gradkata.worker.harness._training.build_optimizer`."""

    optimizer: str  # "sgd" (default) | "momentum" | "adam"
    lr: float


@final  # no other keys: a profile scenario is told apart by its "profile" key
class ClipperScenario(TypedDict, total=False):
    """A clipper-class run (:func:`gradkata.worker.harness._training.clipper_run`): step t's loss is
    ``scales[t] * mse(model(x[t]), y[t])``; the clipper is ``cls(*args, **kwargs)``."""

    model: Required[ModelSpec]
    x: Required[Array]
    y: Required[Array]
    scales: Required[list[float]]
    lr: float
    kwargs: dict[str, Any]
    args: list[Any]
    frozen: list[int]


class ClipperObservation(TypedDict):
    """What each call returned, and the gradients after it (per parameter; None: none)."""

    returned: list[Value]
    grads: list[list[Array | None]]


class StepsObservation(TypedDict):
    """A train-step kata's log: one entry per step, and the events of the whole run."""

    returned: list[Value]
    params: list[list[Array]]
    events: list[str]
    step_starts: list[int]
    norms_at_step: list[float]
