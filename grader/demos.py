"""Data for the notebooks' demonstrations (no plotting here: the notebooks plot).

``bptt_gradient_norms`` shows why recurrent networks need clipping: back-
propagation through time multiplies the gradient by the Jacobian
dh_{k+1}/dh_k once per time step, so its size behaves like ||W_hh||^steps.
"""

from __future__ import annotations

import numpy as np


def bptt_gradient_norms(w_hh_norm: float, steps: int, hidden: int = 16, nonlinearity: str = "linear",
                        seed: int = 0) -> np.ndarray:
    """Spectral norm of the product of Jacobians dh_T/dh_{T-k}, for k = 0..steps.

    W_hh is a random orthogonal matrix times ``w_hh_norm``, so its spectral
    norm is exactly ``w_hh_norm``. With ``nonlinearity="linear"``
    (h_{k+1} = W_hh h_k) each Jacobian is W_hh and the result is
    ``w_hh_norm ** k``: it explodes above 1 and vanishes below 1. With
    ``"tanh"`` (h_{k+1} = tanh(W_hh h_k + x_k), random inputs) each Jacobian is
    diag(1 - h_{k+1}^2) W_hh, which can only shrink the product.

    Returns:
        float64 array of length steps + 1; entry k is ||prod of the last k
        Jacobians||_2 (entry 0 is 1, the identity).
    """
    if steps < 0 or hidden < 1:
        raise ValueError(f"steps must be >= 0 and hidden >= 1, got steps={steps}, hidden={hidden}")
    if nonlinearity not in ("linear", "tanh"):
        raise ValueError(f"nonlinearity must be 'linear' or 'tanh', got {nonlinearity!r}")
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.normal(size=(hidden, hidden)))
    w_hh = w_hh_norm * q * np.sign(np.diag(r))  # sign fix: a uniformly random orthogonal matrix
    h = rng.normal(size=hidden) * 0.1
    product = np.eye(hidden)
    norms = [1.0]
    for _ in range(steps):
        if nonlinearity == "tanh":
            h = np.tanh(w_hh @ h + rng.normal(size=hidden) * 0.1)
            jacobian = (1.0 - h**2)[:, None] * w_hh
        else:
            jacobian = w_hh
        # Back-propagation multiplies from the output end: dh_T/dh_{T-k} = J_T ... J_{T-k+1}.
        product = product @ jacobian
        norms.append(float(np.linalg.norm(product, 2)))
    return np.asarray(norms, dtype=np.float64)
