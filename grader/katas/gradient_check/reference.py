"""Reference: central-difference gradient and the seed's relative error."""

from __future__ import annotations

import numpy as np
import torch


def numerical_gradient(f, theta, eps=1e-5):
    grad = torch.zeros_like(theta) if isinstance(theta, torch.Tensor) else np.zeros_like(theta)
    for index in np.ndindex(*theta.shape):
        # Perturb in place and put the exact old value back: old + eps - eps
        # need not round back to old, so never undo by subtraction.
        old = float(theta[index])
        theta[index] = old + eps
        f_plus = float(f(theta))
        theta[index] = old - eps
        f_minus = float(f(theta))
        theta[index] = old
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


def _norm(x) -> float:
    return float(np.linalg.norm(np.asarray(x.detach() if isinstance(x, torch.Tensor) else x, dtype=np.float64)))


def relative_error(a, b):
    a64 = np.asarray(a.detach() if isinstance(a, torch.Tensor) else a, dtype=np.float64)
    b64 = np.asarray(b.detach() if isinstance(b, torch.Tensor) else b, dtype=np.float64)
    return _norm(a64 - b64) / (_norm(a64) + _norm(b64) + 1e-12)
