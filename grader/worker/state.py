"""The process-wide state a submission can change, kept per kata in a shared child.

A child of its own starts every kata from the zygote's state, with only its own
file's import-time changes (``torch.manual_seed(0)`` at top level,
``torch.set_default_dtype(torch.float64)``, a patched ``torch.allclose``, ...).
A shared child (several katas of one submission, :func:`gradkata.pool.Zygote.spawn_shared`)
does the same: each module is imported from the state the child started with,
the state it leaves is kept, and each kata's calls run from its own module's
state, whatever the katas before it changed. Only the state below is kept; a
submission that changes more can only change what its own other katas see.

Runs in the worker only. The setters are bound when the zygote imports this
module, before any submission runs, so a patched ``torch.set_rng_state`` cannot
stop the restore.
"""

from __future__ import annotations

import random
import sys
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import Any, cast

import numpy as np
import torch

# Namespaces whose attributes a submission might replace, and the classes whose methods it might.
MODULES = ("torch", "torch.nn", "torch.nn.functional", "torch.nn.utils", "torch.nn.init", "torch.linalg",
           "torch.optim", "torch.autograd", "torch.amp", "numpy", "numpy.linalg", "math", "random")
CLASSES: tuple[type, ...] = (torch.Tensor, torch.nn.Module, torch.nn.Parameter, torch.optim.Optimizer,
                             torch.nn.Linear, np.ndarray)

_set_dtype = torch.set_default_dtype
_set_grad = torch.set_grad_enabled
_set_anomaly = torch.autograd.set_detect_anomaly
_set_deterministic = torch.use_deterministic_algorithms
_set_rng = torch.set_rng_state
_np_set_state = np.random.set_state
_np_seterr = np.seterr
_py_setstate = random.setstate
_setattr = setattr
_get_dtype = torch.get_default_dtype
_get_grad = torch.is_grad_enabled
_get_anomaly = torch.is_anomaly_enabled
_get_deterministic = torch.are_deterministic_algorithms_enabled
_get_rng = torch.get_rng_state
_np_get_state = np.random.get_state
_np_geterr = np.geterr
_py_getstate = random.getstate


@dataclass
class State:
    dtype: Any
    grad: bool
    anomaly: bool
    deterministic: bool
    torch_rng: Any
    np_rng: Any
    py_rng: Any
    np_err: dict
    warning_filters: list
    namespaces: list[tuple[Any, dict[str, Any]]]


def _namespaces() -> list[Any]:
    found: list[Any] = [sys.modules[name] for name in MODULES if isinstance(sys.modules.get(name), ModuleType)]
    return found + list(CLASSES)


def capture() -> State:
    """The state now."""
    return State(
        dtype=_get_dtype(), grad=_get_grad(), anomaly=_get_anomaly(), deterministic=_get_deterministic(),
        torch_rng=_get_rng(), np_rng=_np_get_state(), py_rng=_py_getstate(), np_err=dict(_np_geterr()),
        warning_filters=list(warnings.filters),
        namespaces=[(ns, dict(vars(ns))) for ns in _namespaces()],
    )


def restore(state: State) -> None:
    """Put the state back as captured. Attributes a submission added stay (they change nothing
    the katas' drivers use); every one it replaced is put back."""
    # Each setter only when the value changed: use_deterministic_algorithms alone costs 10 ms a call.
    if _get_dtype() != state.dtype:
        _set_dtype(state.dtype)
    if _get_grad() != state.grad:
        _set_grad(state.grad)
    if _get_anomaly() != state.anomaly:
        _set_anomaly(state.anomaly)
    if _get_deterministic() != state.deterministic:
        _set_deterministic(state.deterministic)
    _set_rng(state.torch_rng)
    _np_set_state(state.np_rng)
    _py_setstate(state.py_rng)
    _np_seterr(**state.np_err)
    cast(list, warnings.filters)[:] = state.warning_filters
    for ns, saved in state.namespaces:
        now = vars(ns)
        for name, value in saved.items():
            if now.get(name, _MISSING) is not value:
                _setattr(ns, name, value)


_MISSING = object()
