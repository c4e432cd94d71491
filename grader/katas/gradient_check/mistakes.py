"""The usual mistakes in gradient checking: mutants, feedback and a probe battery."""

from __future__ import annotations

import numpy as np
import torch

from gradkata.mistakes import Mistake
from gradkata.katas.gradient_check.driver import Function, Scenario

SLUG = "gradient_check"


def _zeros(theta):
    return torch.zeros_like(theta) if isinstance(theta, torch.Tensor) else np.zeros_like(theta)


def _copy(theta):
    return theta.clone() if isinstance(theta, torch.Tensor) else theta.copy()


def _norm(x) -> float:
    x = x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    return float(np.linalg.norm(x.astype(np.float64)))


def central(f, theta, eps=1e-5):
    grad = _zeros(theta)
    for i in np.ndindex(*theta.shape):
        plus, minus = _copy(theta), _copy(theta)
        plus[i] += eps
        minus[i] -= eps
        grad[i] = (float(f(plus)) - float(f(minus))) / (2 * eps)
    return grad


def relative_error(a, b):
    return _norm(_as64(a) - _as64(b)) / (_norm(a) + _norm(b) + 1e-12)


def _as64(x):
    return x.detach().double() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)


def forward_difference(f, theta, eps=1e-5):
    grad = _zeros(theta)
    base = float(f(theta))
    for i in np.ndindex(*theta.shape):
        plus = _copy(theta)
        plus[i] += eps
        grad[i] = (float(f(plus)) - base) / eps
    return grad


def theta_not_restored(f, theta, eps=1e-5):
    grad = _zeros(theta)
    for i in np.ndindex(*theta.shape):
        old = float(theta[i])
        theta[i] = old + eps
        f_plus = float(f(theta))
        theta[i] = old - eps
        f_minus = float(f(theta))  # theta[i] stays at old - eps
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def float32_tiny_eps(f, theta, eps=1e-5):
    work = theta.float() if isinstance(theta, torch.Tensor) else theta.astype(np.float32)
    grad = _zeros(work)
    for i in np.ndindex(*work.shape):
        old = float(work[i])
        work[i] = old + eps  # rounds to float32: the step is mostly rounding error
        f_plus = float(f(work))
        work[i] = old - eps
        f_minus = float(f(work))
        work[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def step_not_doubled(f, theta, eps=1e-5):
    grad = _zeros(theta)
    for i in np.ndindex(*theta.shape):
        plus, minus = _copy(theta), _copy(theta)
        plus[i] += eps
        minus[i] -= eps
        grad[i] = (float(f(plus)) - float(f(minus))) / eps  # the two points are 2 * eps apart
    return grad


def first_axis_only(f, theta, eps=1e-5):
    # The notebook's loop: right for the d-vector it was written for; on a matrix
    # e[i] = 1.0 sets a whole row, and a 0-d theta has no len().
    g = np.zeros_like(theta)
    for i in range(len(theta)):
        e = np.zeros_like(theta); e[i] = 1.0
        g[i] = (float(f(theta + eps * e)) - float(f(theta - eps * e))) / (2 * eps)
    return g


def numpy_copy(f, theta, eps=1e-5):
    grad = np.zeros(theta.shape)
    for i in np.ndindex(*theta.shape):
        plus, minus = theta.copy(), theta.copy()  # ndarray.copy(); a tensor has .clone()
        plus[i] += eps
        minus[i] -= eps
        grad[i] = (float(f(plus)) - float(f(minus))) / (2 * eps)
    return grad


def elementwise_ratio(a, b):
    a, b = _as64(a), _as64(b)
    a = a.numpy() if isinstance(a, torch.Tensor) else a
    b = b.numpy() if isinstance(b, torch.Tensor) else b
    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b) + 1e-12)))


def one_sided_denominator(a, b):
    return _norm(_as64(a) - _as64(b)) / _norm(a)


def no_guard(a, b):
    return _norm(_as64(a) - _as64(b)) / (_norm(a) + _norm(b))


def _gradient_mistake(name, title, fn, what, symptom, why, fix) -> Mistake:
    return Mistake(id=f"{SLUG}/{name}", title=title, what=what, symptom=symptom, why=why, fix=fix,
                   mutant={"numerical_gradient": fn, "relative_error": relative_error})


def _error_mistake(name, title, fn, what, symptom, why, fix) -> Mistake:
    return Mistake(id=f"{SLUG}/{name}", title=title, what=what, symptom=symptom, why=why, fix=fix,
                   mutant={"numerical_gradient": central, "relative_error": fn})


MISTAKES = [
    _gradient_mistake(
        "forward-difference", "Forward difference instead of central", forward_difference,
        "Your numerical_gradient used the one-sided (f(theta + eps*e_i) - f(theta)) / eps.",
        "Its error is about eps/2 times the curvature, O(eps), instead of O(eps**2): the estimate is off in the "
        "sixth digit at eps = 1e-5 and visibly off for larger steps.",
        "A gradient check compares against this estimate; with an O(eps) error a correct backward pass shows a "
        "relative error near 1e-6 and is hard to tell from a slightly wrong one.",
        "Evaluate both sides: (f(theta + eps*e_i) - f(theta - eps*e_i)) / (2 * eps)."),
    _gradient_mistake(
        "theta-not-restored", "theta left perturbed", theta_not_restored,
        "Your numerical_gradient perturbed theta in place and did not put each element back.",
        "After the call every element of theta is off by -eps, and later coordinates were differentiated at a "
        "shifted point.",
        "In a real check theta is the model's weights: the check itself corrupts the model it is checking.",
        "Save old = theta[i] before perturbing and assign theta[i] = old when done (not theta[i] += eps, "
        "which may not round back exactly), or perturb a copy."),
    _gradient_mistake(
        "float32-tiny-eps", "Differences taken in float32", float32_tiny_eps,
        "Your numerical_gradient worked in float32 (a cast with .float() or astype(np.float32)).",
        "float32 keeps about 7 digits, so theta + 1e-5 is rounded by up to 1% of the step and f's rounding is "
        "divided by 2e-5: the estimate is wrong in the third digit.",
        "A gradient check in float32 reports errors near 1e-3 for a correct backward pass, so real bugs hide in "
        "the noise (gradcheck warns for the same reason).",
        "Keep theta and the arithmetic in float64."),
    _gradient_mistake(
        "step-not-doubled", "Central difference divided by eps", step_not_doubled,
        "Your numerical_gradient divided f(theta + eps*e_i) - f(theta - eps*e_i) by eps.",
        "The two points are 2*eps apart, so every estimate is exactly twice the gradient.",
        "The check then disagrees with every correct backward pass, or agrees with one that doubles its "
        "gradients.",
        "Divide by the distance between the points: 2 * eps."),
    _gradient_mistake(
        "first-axis-only", "Only the first axis of theta perturbed", first_axis_only,
        "Your numerical_gradient looped over range(len(theta)) and perturbed theta + eps * e with e[i] = 1.0.",
        "That is right for a vector, but on a matrix e[i] = 1.0 sets a whole row, so every element of a row gets "
        "the row's summed derivative; a 0-d theta raises TypeError (len() of unsized object).",
        "Weights are matrices and kernels: checking a layer's weight this way reports a mismatch for a correct "
        "backward pass (parity tier: the seed's notebook loop was written for its d-vector).",
        "Visit every element: for i in np.ndindex(*theta.shape), with e = zeros_like(theta); e[i] = 1.0."),
    _gradient_mistake(
        "numpy-only-perturbation", "Perturbation that works on NumPy arrays only", numpy_copy,
        "Your numerical_gradient copied theta with theta.copy() (or another NumPy-only operation).",
        "On a torch tensor it raises AttributeError ('Tensor' object has no attribute 'copy'); NumPy arrays work.",
        "The usual use of a gradient check is on a model's weights, which are tensors (parity tier).",
        "Copy with theta.clone() for a tensor and theta.copy() for an array, or perturb in place and put "
        "back the saved value: theta[i] = old + eps; ...; theta[i] = old."),
    _error_mistake(
        "relative-error-elementwise", "Element-wise relative error", elementwise_ratio,
        "Your relative_error returned max |a - b| / (|a| + |b|) over the elements.",
        "That is a different measure: a = [3, -4, 1] against b = [3, -4, 2] gives 1/3 instead of "
        "||a - b|| / (||a|| + ||b|| + 1e-12) = 0.097, and a tiny component dominates it.",
        "The seed's 1e-7 threshold is set for the norm-wise error; element-wise, near-zero components of a "
        "correct gradient make the check fail.",
        "Take L2 norms over all elements: np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b) + 1e-12)."),
    _error_mistake(
        "relative-error-one-sided", "Relative error divided by one norm", one_sided_denominator,
        "Your relative_error divided ||a - b|| by ||a|| alone.",
        "It is no longer symmetric in a and b, can exceed 1 (2 for a = -b), and is inf or NaN when a is zero.",
        "Swapping analytic and numerical gradients changes the verdict, and a zero gradient crashes the check.",
        "Divide by ||a|| + ||b|| + 1e-12."),
    _error_mistake(
        "relative-error-no-guard", "Relative error without the 1e-12", no_guard,
        "Your relative_error divided by ||a|| + ||b|| with nothing added.",
        "For two zero gradients it returns 0/0 = NaN instead of 0.",
        "Parameters with zero gradient (unused units, ReLUs that are off) make the check fail or print NaN.",
        "Add the small constant: ||a - b|| / (||a|| + ||b|| + 1e-12)."),
]


def _probe_function(kind: str, shape: tuple, seed: int) -> tuple[Function, np.ndarray]:
    rng = np.random.default_rng(seed)
    d = int(np.prod(shape))
    spec: Function
    if kind == "quadratic":
        spec = {"kind": "quadratic", "A": rng.normal(size=(d, d)), "b": rng.normal(size=d)}
    else:
        spec = {"kind": "smooth", "w": rng.uniform(0.5, 3.0, d), "c_sin": rng.normal(size=d),
                "c_exp": rng.normal(size=d), "c_cube": 0.5 * rng.normal(size=d), "q": float(rng.normal())}
    return spec, rng.normal(size=shape)


def _probe(kind, shape, seed, eps, as_="numpy") -> Scenario:
    spec, theta = _probe_function(kind, shape, seed)
    return {"function": spec, "theta": theta, "as": as_, "eps": eps}


_G = np.array([3.0, -4.0, 1.0])

# Large steps (0.1, 0.01) make the O(eps) mistakes differ from the reference by
# far more than rounding; the default step shows the float32 one.
PROBES = [
    _probe("quadratic", (5,), 0, None),
    _probe("smooth", (3,), 1, 0.1),
    _probe("smooth", (2, 2), 2, 0.01, "tensor"),
    _probe("quadratic", (4,), 3, 0.1, "tensor"),
    # Non-zero pairs apart from zero ones: on a zero norm both denominator
    # mistakes raise the same ZeroDivisionError, and only these tell them apart.
    {"pairs": [{"a": _G, "b": _G}, {"a": _G, "b": -_G}, {"a": _G, "b": 1.5 * _G}], "as": "numpy"},
    {"pairs": [{"a": np.zeros(3), "b": np.zeros(3)}, {"a": np.zeros(3), "b": _G}], "as": "numpy"},
    {"pairs": [{"a": _G, "b": np.array([3.0, -4.0, 2.0])}], "as": "numpy"},
    _probe("smooth", (2, 3), 4, 1e-3),
]

# A finite-difference loop must read f's value as a number at every step: the
# host-sync advice (.item() in a loop) does not apply here.
HOST_SYNC_ADVICE = False
