"""Gradient checking with central differences.

Implement numerical_gradient(f, theta, eps=1e-5), the central-difference
estimate of the gradient of a scalar function that leaves theta unchanged, and
relative_error(a, b) = ||a - b|| / (||a|| + ||b|| + 1e-12). Autograd's exact
gradients and PyTorch's own finite differences (torch.autograd.gradcheck) are
the oracle.

Run `gradkata check gradient_check` to try the visible examples,
`gradkata grade` for the full hidden suite.
"""

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
