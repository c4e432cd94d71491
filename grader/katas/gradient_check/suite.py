"""Hidden suite: numerical_gradient and relative_error against the reference,
autograd's exact gradients and torch.autograd.gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gradkata.suitekit import Mismatch, close, fmt_array, fmt_num, fmt_value, number, points, sanity, visible
from gradkata.katas.gradient_check.driver import Function, Scenario, evaluate

KATA = "gradient_check"
SEED_MATCH = 1e-7  # the seed's "gradients match" level of relative error
ROUNDOFF = 2e-14  # float64 rounding of f, relative to its size, that survives the difference


# --- scenarios -------------------------------------------------------------------

def quadratic(A, b) -> Function:
    return {"kind": "quadratic", "A": np.asarray(A, dtype=np.float64), "b": np.asarray(b, dtype=np.float64)}


def seed_problem() -> tuple[Function, np.ndarray]:
    """The seed notebook's example: np.random.seed(0), d = 5."""
    rng = np.random.RandomState(0)
    d = 5
    A = rng.randn(d, d)
    A = A.T @ A + 0.1 * np.eye(d)
    b = rng.randn(d)
    theta = rng.randn(d)
    return quadratic(A, b), theta


def random_function(rng: np.random.Generator, kind: str, d: int) -> Function:
    if kind == "quadratic":
        return quadratic(rng.normal(size=(d, d)), rng.normal(size=d))
    return {"kind": "smooth", "w": rng.uniform(0.5, 3.0, d), "c_sin": rng.normal(size=d),
            "c_exp": rng.normal(size=d), "c_cube": 0.5 * rng.normal(size=d), "q": float(rng.normal())}


@st.composite
def problems(draw, kinds=("quadratic", "smooth"), eps_values=(None, 1e-5, 1e-4, 1e-3, 1e-2, 0.1)) -> dict:
    """The interview's input space, as the seed poses it: a NumPy float64 vector theta
    (the notebook's d-vector) and a scalar f. Tensors and other shapes are the
    parity tier's, in deterministic checks, so that omitting them costs those
    checks alone and never this property test under some seed."""
    d = draw(st.integers(1, 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {"function": random_function(rng, draw(st.sampled_from(kinds)), d),
            "theta": rng.normal(size=(d,)), "as": "numpy", "eps": draw(st.sampled_from(eps_values))}


# --- what the trusted side knows about f -------------------------------------------

def autograd_gradient(spec: Function, theta: np.ndarray) -> np.ndarray:
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(evaluate(spec, t), t)
    return grad.numpy()


def magnitude(spec: Function, theta: np.ndarray) -> float:
    """A bound on the size of f's terms at theta, which sets its rounding error."""
    x = np.abs(np.asarray(theta, dtype=np.float64).reshape(-1))
    if spec["kind"] == "quadratic":
        return float(0.5 * x @ (np.abs(spec["A"]) @ x) + np.abs(spec["b"]) @ x) + 1.0
    return float(np.abs(spec["c_sin"]).sum() + (np.abs(spec["c_exp"]) * np.exp(0.5 * x)).sum()
                 + (np.abs(spec["c_cube"]) * x**3).sum() + abs(spec["q"]) * x.sum() ** 2) + 1.0


def describe_f(spec: Function, theta: np.ndarray) -> str:
    d = np.size(theta)
    if spec["kind"] == "quadratic":
        return f"f(θ) = 0.5 θᵀAθ + bᵀθ with d = {d}"
    return f"f(θ) = Σ c·sin(wθ) + Σ c·exp(θ/2) + Σ c·θ³ + q·(Σθ)² with d = {d}"


def call_text(s: Scenario) -> str:
    theta = np.asarray(s["theta"])
    kind = "tensor" if s.get("as") == "tensor" else "array"
    eps = "" if s.get("eps") is None else f", eps={fmt_num(s['eps'])}"
    return (f"numerical_gradient(f, theta={kind}({fmt_array(theta)}){eps}) "
            f"where {describe_f(s['function'], theta)}")


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b) + 1e-12))


# --- checks ------------------------------------------------------------------------

def returned_array(call: str, desc: dict, shape: tuple) -> np.ndarray:
    if desc.get("type") in ("tensor", "ndarray"):
        value = np.asarray(desc["value"], dtype=np.float64)
    else:
        raise Mismatch(f"Called {call}. Returned {fmt_value(desc)}, expected an array or tensor shaped "
                       f"like theta {list(shape)}.")
    if value.shape != shape:
        raise Mismatch(f"Called {call}. Returned shape {list(value.shape)}, expected theta's shape {list(shape)}.")
    return value


def check_restored(call: str, got: dict, theta: np.ndarray) -> None:
    after = np.asarray(got["theta_after"], dtype=np.float64)
    moved = np.abs(after - theta) > 1e-12 * np.maximum(1.0, np.abs(theta))
    if after.shape != theta.shape or moved.any():
        i = int(np.argmax(moved.reshape(-1))) if after.shape == theta.shape else 0
        raise Mismatch(f"Called {call}. Afterwards theta is {fmt_array(after)}, expected it unchanged at "
                       f"{fmt_array(theta)} (element {i} was left perturbed): put each element back after "
                       "perturbing it.")


def float32_hint(got: dict) -> str:
    low = [d for d in got.get("dtypes_seen", []) if d in ("float32", "float16", "bfloat16")]
    return f" f was called with {low[0]} values: keep theta in float64." if low else ""


def check_gradient(judge, s: Scenario) -> np.ndarray:
    """Compare the candidate with the reference (to rounding) and return its gradient."""
    call = call_text(s)
    theta = np.asarray(s["theta"], dtype=np.float64)
    want = np.asarray(judge.reference(s)["gradient"]["value"], dtype=np.float64)
    exact = autograd_gradient(s["function"], theta)
    eps = s.get("eps")
    eps = 1e-5 if eps is None else eps
    # Central differences are O(eps**2) away from the exact gradient; large steps
    # (they expose the O(eps) mistakes) are compared with the reference only.
    assert eps > 1e-4 or rel_err(want, exact) < 1e-6, "grader bug: the reference disagrees with autograd"
    oracle = judge.oracle(s)
    if oracle is not None:
        torch_fd = np.asarray(oracle["gradient"]["value"], dtype=np.float64)
        assert rel_err(want, torch_fd) < 1e-9, "grader bug: the reference disagrees with PyTorch's differences"
    got_obs = judge.candidate(s)
    check_restored(call, got_obs, theta)
    got = returned_array(call, got_obs["gradient"], theta.shape)
    allowed = ROUNDOFF * magnitude(s["function"], theta) / eps + 1e-10 * np.abs(want).max()
    if not np.all(np.abs(got - want) <= allowed):
        raise Mismatch(f"Called {call}. Returned {fmt_array(got)}, expected the central difference "
                       f"{fmt_array(want)} (autograd gives {fmt_array(exact)}; your relative error to it is "
                       f"{fmt_num(rel_err(got, exact))}).{float32_hint(got_obs)}")
    return got


def check_relative_errors(judge, pairs: list[tuple], kind: str = "numpy") -> None:
    s: dict = {"pairs": [{"a": np.asarray(a, dtype=np.float64), "b": np.asarray(b, dtype=np.float64)} for a, b in pairs],
         "as": kind}
    want, oracle = judge.reference(s)["relative_errors"], judge.oracle(s)
    got = judge.candidate(s)["relative_errors"]
    for i, (pair, g, w) in enumerate(zip(s["pairs"], got, want)):
        expected = number(w)
        torch_says = oracle and number(oracle["relative_errors"][i])
        if torch_says is not None:
            assert close(expected, torch_says), "grader bug: the reference disagrees with torch"
        call = f"relative_error(a={fmt_array(pair['a'])}, b={fmt_array(pair['b'])})"
        value = number(g)
        if value is None or not close(value, expected):
            shown = fmt_value(g) if value is None else fmt_num(value)
            raise Mismatch(f"Called {call}. Returned {shown}, expected ||a - b|| / (||a|| + ||b|| + 1e-12) = "
                           f"{fmt_num(expected)}" + (f" (PyTorch gives {fmt_num(torch_says)})." if torch_says
                                                      is not None else "."))


# --- tests ---------------------------------------------------------------------------
# Interview tier (unmarked): the notebook's question -- NumPy vectors, a scalar f,
# the seed's relative error. Parity tier: the stub's wider promises (theta of any
# shape, torch tensors), each in one deterministic check.

parity = pytest.mark.tier("parity")


@visible
@points(2)
def test_seed_quadratic_example(judge):
    """The seed's check: np.random.seed(0), d = 5, quadratic loss; relative error far below 1e-7."""
    spec, theta = seed_problem()
    got = check_gradient(judge, {"function": spec, "theta": theta, "as": "numpy", "eps": 1e-5})
    err = rel_err(got, autograd_gradient(spec, theta))
    if err >= SEED_MATCH:
        raise Mismatch(f"Called numerical_gradient on the seed's quadratic. Relative error to the analytic "
                       f"gradient is {fmt_num(err)}, expected below {SEED_MATCH:g}.")


@visible
@points(1)
def test_relative_error_examples(judge):
    """Equal gradients give 0; g against -g gives 1 (up to the 1e-12)."""
    g = np.array([3.0, 4.0])
    check_relative_errors(judge, [(g, g), (g, -g), ([1.0, 0.0], [0.0, 1.0])])


@points(4)
@given(s=problems())
def test_matches_central_differences_on_generated_functions(judge, s):
    check_gradient(judge, s)


@points(2)
@given(s=problems(kinds=("quadratic",), eps_values=(None, 1e-5)))
def test_quadratic_matches_autograd(judge, s):
    """Central differences are exact on a quadratic up to rounding: the seed's 1e-7 criterion holds."""
    got = check_gradient(judge, s)
    err = rel_err(got, autograd_gradient(s["function"], np.asarray(s["theta"])))
    if err >= SEED_MATCH:
        raise Mismatch(f"Called {call_text(s)}. Relative error to autograd is {fmt_num(err)}, expected below "
                       f"{SEED_MATCH:g}.")


@points(1)
def test_theta_is_restored(judge):
    """The docstring's promise: every element of theta comes back exactly as it was."""
    rng = np.random.default_rng(5)
    spec = random_function(rng, "quadratic", 5)
    check_gradient(judge, {"function": spec, "theta": rng.normal(size=5) * 100.0, "as": "numpy", "eps": 1e-3})


@points(1)
def test_single_parameter(judge):
    spec: Function = {"kind": "smooth", "w": [2.0], "c_sin": [1.5], "c_exp": [0.3], "c_cube": [0.7], "q": 0.25}
    check_gradient(judge, {"function": spec, "theta": np.array([0.8]), "as": "numpy", "eps": None})


@points(2)
def test_passes_gradcheck_criterion(judge):
    """With gradcheck's eps = 1e-6, the estimate meets gradcheck's own tolerance
    |numerical - analytic| <= 1e-5 + 1e-3 |analytic|."""
    rng = np.random.default_rng(11)
    for kind, d in (("smooth", 4), ("quadratic", 4), ("smooth", 6)):
        spec = random_function(rng, kind, d)
        theta = rng.normal(size=d)
        t = torch.tensor(theta, requires_grad=True)
        sanity(torch.autograd.gradcheck(lambda x: evaluate(spec, x), (t,), eps=1e-6, atol=1e-5, rtol=1e-3),
               "gradcheck rejects the generated function")
        s: Scenario = {"function": spec, "theta": theta, "as": "numpy", "eps": 1e-6}
        got = check_gradient(judge, s)
        exact = autograd_gradient(spec, theta)
        if not np.all(np.abs(got - exact) <= 1e-5 + 1e-3 * np.abs(exact)):
            raise Mismatch(f"Called {call_text(s)}. Returned {fmt_array(got)}, which "
                           f"torch.autograd.gradcheck would reject against {fmt_array(exact)}.")


@points(2)
@given(d=st.integers(1, 6), seed=st.integers(0, 2**32 - 1), noise=st.sampled_from([0.0, 1e-9, 1e-3, 1.0, 10.0]))
def test_relative_error_on_generated_pairs(judge, d, seed, noise):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=d) * 10.0 ** rng.integers(-3, 4)
    b = a + noise * rng.normal(size=d) * np.abs(a).max()
    check_relative_errors(judge, [(a, b), (b, a)])


@points(1)
def test_relative_error_of_zero_gradients(judge):
    """Two zero gradients: 0 / (0 + 0 + 1e-12) = 0, not 0/0."""
    check_relative_errors(judge, [(np.zeros(3), np.zeros(3)), (np.zeros(1), np.zeros(1))])


@points(1)
def test_relative_error_when_one_side_is_zero(judge):
    """Against a zero gradient the error is ||a|| / (||a|| + 1e-12), just below 1."""
    check_relative_errors(judge, [(np.zeros(2), np.array([1e-3, 2.0])), (np.array([5.0]), np.zeros(1))])


@points(1)
def test_relative_error_is_over_whole_vectors(judge):
    """One L2 norm over all elements, not an element-wise ratio: a = [3, -4, 1] against b = [3, -4, 2] is
    1 / (||a|| + ||b||) = 0.0971, not max |a - b| / (|a| + |b|) = 1/3."""
    check_relative_errors(judge, [(np.array([3.0, -4.0, 1.0]), np.array([3.0, -4.0, 2.0])),
                                  (np.array([100.0, 1e-3]), np.array([100.0, 2e-3]))])


@parity
@points(1)
def test_torch_tensor_theta(judge):
    """theta as a float64 torch tensor (a model's weights): perturbing it must work on tensors too
    (no NumPy-only .copy() or np.nditer views) and leave it unchanged."""
    rng = np.random.default_rng(13)
    spec = random_function(rng, "smooth", 4)
    check_gradient(judge, {"function": spec, "theta": rng.normal(size=4), "as": "tensor", "eps": 1e-4})


@parity
@points(2)
def test_theta_of_any_shape(judge):
    """A weight matrix, a 3-D kernel and a 0-d scalar (NumPy arrays; tensors are the check above):
    every element is perturbed once (np.ndindex(*theta.shape)), not just each row."""
    rng = np.random.default_rng(17)
    for shape, kind in (((2, 3), "numpy"), ((2, 2, 2), "numpy"), ((), "numpy"), ((3, 2), "numpy")):
        spec = random_function(rng, "smooth", int(np.prod(shape)))
        check_gradient(judge, {"function": spec, "theta": rng.normal(size=shape), "as": kind, "eps": 1e-4})


@parity
@points(1)
def test_relative_error_of_tensors_and_matrices(judge):
    """Tensors and matrices: still one L2 norm over all elements (a matrix's 2-norm would be its
    largest singular value)."""
    a, b = np.array([[3.0, 0.0], [0.0, 4.0]]), np.array([[3.0, 1.0], [0.0, 4.5]])
    check_relative_errors(judge, [(a, b)], "numpy")
    check_relative_errors(judge, [(a, b), (a.ravel(), b.ravel())], "tensor")
