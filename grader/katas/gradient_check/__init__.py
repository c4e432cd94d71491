"""Kata: check gradients with central finite differences."""

from __future__ import annotations

from .._kata import Kata


def _oracle() -> dict:
    import sys

    import numpy as np
    import torch
    import torch.autograd.gradcheck  # noqa: F401  (the module; the package re-exports the function)

    gradcheck_module = sys.modules["torch.autograd.gradcheck"]

    def numerical_gradient(f, theta, eps=1e-5):
        # PyTorch's own finite differences (what gradcheck compares against):
        # it perturbs a float64 copy, so theta itself is never touched.
        is_tensor = isinstance(theta, torch.Tensor)
        work = (theta.detach().clone() if is_tensor else torch.from_numpy(np.array(theta, dtype=np.float64)))
        work = work.to(torch.float64).requires_grad_(True)

        def packed(inputs):
            x = inputs[0].detach()
            return torch.as_tensor(float(f(x if is_tensor else x.numpy())), dtype=torch.float64)

        (jacobian,) = gradcheck_module.get_numerical_jacobian(packed, (work,), eps=eps)
        grad = jacobian.reshape(work.shape)
        return grad if is_tensor else grad.numpy()

    def relative_error(a, b):
        a, b = (torch.as_tensor(v, dtype=torch.float64) for v in (a, b))
        norm = torch.linalg.vector_norm
        return norm(a - b) / (norm(a) + norm(b) + 1e-12)

    return {"numerical_gradient": numerical_gradient, "relative_error": relative_error}


STUB = '''
import numpy as np
import torch


def numerical_gradient(f, theta, eps=1e-5):
    """Estimate the gradient of a scalar function by central differences.

    For every coordinate i of theta (any shape; visit each element once):

        grad[i] = (f(theta + eps * e_i) - f(theta - eps * e_i)) / (2 * eps)

    where e_i is 1 at position i and 0 elsewhere. The central difference is
    accurate to O(eps**2); the one-sided (f(theta + eps*e_i) - f(theta)) / eps
    only to O(eps), which is far too coarse to check a gradient with.

    You may perturb theta in place to save memory, but put every element back
    exactly as it was before returning: the caller's parameters must come out
    unchanged. Work in float64 -- in float32 a step of 1e-5 is lost in rounding.

    Args:
        f: a function taking an array shaped like theta and returning a number.
        theta: a float64 NumPy array or a float64 torch tensor. (Interview
            tier: NumPy vectors, as in the notebook; parity tier: tensors and
            theta of any shape -- a matrix, a 3-D kernel, a 0-d scalar.)
        eps: the step size.

    Returns:
        An array (or tensor) shaped like theta holding the estimated gradient.

    Example:
        f = lambda t: (t ** 2).sum() at theta = [1., -2.] gives about [2., -4.].
    """
    raise NotImplementedError("numerical_gradient is not implemented yet")


def relative_error(a, b):
    """How far apart two gradients are, relative to their size:

        ||a - b|| / (||a|| + ||b|| + 1e-12)

    with L2 norms over all elements. The 1e-12 keeps two zero gradients at an
    error of 0 instead of 0/0. Below about 1e-7 the gradients match.

    Args:
        a, b: arrays or tensors of the same shape.

    Returns:
        The relative error as a number (a float, NumPy scalar or 0-d tensor).

    Example:
        relative_error([3., 4.], [3., 4.]) is 0; relative_error(g, -g) is 1.
    """
    raise NotImplementedError("relative_error is not implemented yet")
'''

KATA = Kata(
    slug="gradient_check",
    title="Gradient checking with central differences",
    topic="debugging",
    summary="Implement numerical_gradient(f, theta, eps=1e-5), the central-difference estimate of "
    "the gradient of a scalar function that leaves theta unchanged, and relative_error(a, b) = "
    "||a - b|| / (||a|| + ||b|| + 1e-12). Autograd's exact gradients and PyTorch's own finite "
    "differences (torch.autograd.gradcheck) are the oracle.",
    functions=("numerical_gradient", "relative_error"),
    stub=STUB,
    oracle=_oracle,
)
