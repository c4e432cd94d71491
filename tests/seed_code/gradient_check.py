# The notebook's grad_numeric and relative_error (seed 002), as written there.
# Renamed for the kata: grad_numeric(theta, A, b, eps) -> numerical_gradient(f, theta, eps),
# its global `loss(theta, A, b)` -> the argument `f(theta)`.
import numpy as np


def numerical_gradient(f, theta, eps=1e-5):
    """Numeric gradient via central difference."""
    g = np.zeros_like(theta)
    for i in range(len(theta)):
        e = np.zeros_like(theta); e[i] = 1.0
        g[i] = (f(theta + eps*e) - f(theta - eps*e)) / (2*eps)
    return g


def relative_error(g1, g2):
    """Compare two gradients with relative error."""
    num = np.linalg.norm(g1 - g2)
    den = np.linalg.norm(g1) + np.linalg.norm(g2) + 1e-12
    return num / den
