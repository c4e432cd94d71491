"""The usual mistakes in clip_grad_norm: mutants, feedback and a probe battery.

Each mutant is a small, complete implementation with exactly one bug, written
the way a student would write it. They run only in the trusted process.
"""

from __future__ import annotations

import numpy as np
import torch

from gradkata.mistakes import grad_truth_test, maker
from gradkata.katas.clip_grad_norm.driver import Scenario
from gradkata.worker.shapes import Param

EPS = 1e-6
SLUG = "clip_grad_norm"


def _grads(parameters):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _global(grads):
    return torch.sqrt(sum((g.detach().double() ** 2).sum() for g in grads)).to(grads[0].dtype)


def _scale(grads, coef):
    for g in grads:
        g.mul_(torch.as_tensor(coef, dtype=g.dtype))


def _clipped(total, max_norm):
    return torch.clamp(max_norm / (total + EPS), max=1.0)


def per_parameter(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    total = _global(grads)
    for g in grads:
        _scale([g], _clipped(g.norm(), max_norm))
    return total


def generator_exhausted(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    squares = sum(p.grad.double().pow(2).sum() for p in parameters if p.grad is not None)
    total = torch.sqrt(torch.as_tensor(squares, dtype=torch.float64))
    coef = _clipped(total, max_norm)
    for p in parameters:  # a generator is already empty here
        if p.grad is not None:
            p.grad.mul_(coef.to(p.grad.dtype))
    return total


def none_not_skipped(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters]
    if not grads:
        return torch.tensor(0.0)
    total = torch.sqrt(sum(g.double().pow(2).sum() for g in grads))
    _scale(grads, _clipped(total, max_norm))
    return total


def post_clip_norm(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    _scale(grads, _clipped(_global(grads), max_norm))
    return _global(grads)


def always_rescale(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    total = _global(grads)
    _scale(grads, max_norm / (total + EPS))
    return total


def missing_sqrt(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    total = sum((g.double() ** 2).sum() for g in grads).to(grads[0].dtype)
    _scale(grads, _clipped(total, max_norm))
    return total


def sum_of_norms(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    total = sum(g.double().norm() for g in grads).to(grads[0].dtype)
    _scale(grads, _clipped(total, max_norm))
    return total


def root_mean_square(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    flat = torch.cat([g.double().reshape(-1) for g in grads])
    total = flat.pow(2).mean().sqrt().to(grads[0].dtype)
    _scale(grads, _clipped(total, max_norm))
    return total


def scaled_a_copy(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    total = _global(grads)
    coef = _clipped(total, max_norm)
    for g in grads:
        g = g * coef  # rebinds the local name; p.grad is untouched
    return total


def scaled_weights(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    params = [p for p in parameters if p.grad is not None]
    if not params:
        return torch.tensor(0.0)
    total = _global([p.grad for p in params])
    coef = _clipped(total, max_norm)
    with torch.no_grad():
        for p in params:
            p.mul_(coef.to(p.dtype))
    return total


def inverted_comparison(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    total = _global(grads)
    if total < max_norm:
        _scale(grads, max_norm / (total + EPS))
    return total


def last_tensor_only(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    for g in grads:
        squares = g.double().pow(2).sum()  # overwritten instead of accumulated
    total = squares.sqrt().to(grads[0].dtype)
    _scale(grads, _clipped(total, max_norm))
    return total


def first_grad_only(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    total = _global(grads)
    _scale(grads[:1], _clipped(total, max_norm))
    return total


def elementwise_clamp(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    total = _global(grads)
    for g in grads:
        g.clamp_(-max_norm, max_norm)
    return total


def no_eps(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    total = _global(grads)
    # min(total, max_norm) / total: 0 / 0 when every gradient is zero
    _scale(grads, torch.clamp(total, max=max_norm) / total)
    return total


def half_precision_sum(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    squares = sum((g * g).sum() for g in grads)  # in the gradients' own dtype
    total = torch.sqrt(squares)
    _scale(grads, _clipped(total, max_norm))
    return total


def deduplicated(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    unique = {id(p): p for p in parameters}.values()
    grads = [p.grad for p in unique if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = _global(grads)
    _scale(grads, _clipped(total, max_norm))
    return total


def tensor_iterated(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]  # a lone tensor iterates its rows
    if not grads:
        return torch.tensor(0.0)
    total = _global(grads)
    _scale(grads, _clipped(total, max_norm))
    return total


def returns_nothing(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return None
    _scale(grads, _clipped(_global(grads), max_norm))


def norm_squared_compared(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    squares = sum((g.double() ** 2).sum() for g in grads)
    total = squares.sqrt()
    if squares > max_norm:  # compares the squared norm with max_norm
        _scale(grads, max_norm / (total + EPS))
    return total.to(grads[0].dtype)


def stack_of_nothing(parameters, max_norm):
    grads = _grads(parameters)
    # No `if not grads` guard: torch.stack([]) raises when no parameter has a gradient.
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach(), 2.0) for g in grads]), 2.0)
    _scale(grads, _clipped(total, max_norm))
    return total


def spectral_norm(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    # torch.linalg.norm(g, 2) of a matrix is its largest singular value, not the
    # norm of all its elements (and it refuses 0-d and 3-d tensors).
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.norm(g.detach(), 2) for g in grads]), 2.0)
    _scale(grads, _clipped(total, max_norm))
    return total


def truthy_grad_filter(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    # bool(p.grad) raises for a gradient of more than one element, and drops a
    # one-element gradient that is 0.
    grads = [p.grad for p in filter(lambda p: p.grad, parameters)]
    if not grads:
        return torch.tensor(0.0)
    total = _global(grads)
    _scale(grads, _clipped(total, max_norm))
    return total


def nan_slips_past_guard(parameters, max_norm):
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    total = _global(grads)
    clip_coef = max_norm / (float(total) + EPS)
    if clip_coef < 1:  # False for a NaN norm: the gradients are left as they are
        _scale(grads, clip_coef)
    return total


_m = maker(SLUG, "clip_grad_norm")


MISTAKES = [
    _m("per-parameter-norm", "Each gradient clipped by its own norm", per_parameter,
       "Your code measured and clipped each parameter's gradient on its own instead of using one global norm.",
       "Several gradients that are each short enough pass untouched even when together they exceed max_norm, "
       "and long ones are shrunk by different factors.",
       "Different coefficients per tensor change the direction of the update, which is exactly what norm "
       "clipping is meant to preserve; the total step length is not bounded either.",
       "Compute total_norm = sqrt(sum of ||g||^2 over all gradients) once, then multiply every gradient by "
       "the same min(1, max_norm / (total_norm + 1e-6))."),
    _m("generator-exhausted", "The parameters were iterated twice", generator_exhausted,
       "Your code looped over `parameters` once to compute the norm and again to scale; a generator such as "
       "model.parameters() is empty on the second loop.",
       "With a list everything works, but with a generator the norm is right and no gradient is scaled.",
       "Real training loops pass model.parameters(), a generator, so clipping silently never happens.",
       "Turn the input into a list first (`params = [parameters] if isinstance(parameters, torch.Tensor) "
       "else list(parameters)`) and loop over that list."),
    _m("none-not-skipped", "Parameters without a gradient were not skipped", none_not_skipped,
       "Your code used p.grad without checking it; frozen or unused parameters have p.grad = None.",
       "The call raises (AttributeError or TypeError) as soon as one parameter has no gradient.",
       "Models with frozen layers or parameters unused in a step crash the training loop.",
       "Keep only the gradients that exist: `grads = [p.grad for p in params if p.grad is not None]`."),
    _m("post-clip-norm", "Returned the norm after clipping", post_clip_norm,
       "Your code returned the global norm measured after scaling.",
       "The returned value never exceeds max_norm, while PyTorch returns the norm before clipping.",
       "The returned norm is what people log to spot exploding gradients; capped at max_norm it hides them.",
       "Remember the norm computed before scaling and return that."),
    _m("always-rescale", "Gradients rescaled even when they were short enough", always_rescale,
       "Your code multiplied every gradient by max_norm / total_norm without capping the factor at 1.",
       "Small gradients are blown up to length max_norm instead of being left alone.",
       "Amplifying small gradients makes every update the same length: near a minimum the optimiser overshoots "
       "instead of settling.",
       "Cap the coefficient: coef = min(1, max_norm / (total_norm + 1e-6)), e.g. torch.clamp(coef, max=1.0)."),
    _m("missing-sqrt", "The norm is missing its square root", missing_sqrt,
       "Your code used the sum of squared gradient entries as the norm, without the square root.",
       "The returned norm is the square of PyTorch's, and gradients are clipped too much (or too little below 1).",
       "The threshold no longer means what max_norm says, so clipping kicks in at the wrong scale.",
       "total_norm = sqrt(sum over gradients of (g ** 2).sum())."),
    _m("sum-of-norms", "Per-tensor norms were added up", sum_of_norms,
       "Your code added the L2 norms of the tensors (||g1|| + ||g2|| + ...) instead of combining their squares.",
       "With more than one gradient the returned norm is too large and the gradients are clipped too hard.",
       "The sum of norms grows with the number of parameter tensors, so bigger models get smaller steps.",
       "Combine the squares: sqrt(||g1||^2 + ||g2||^2 + ...), e.g. torch.linalg.vector_norm(torch.stack(norms))."),
    _m("root-mean-square", "Root-mean-square instead of the L2 norm", root_mean_square,
       "Your code averaged the squared entries (a mean) before the square root.",
       "The returned norm is smaller than PyTorch's by sqrt(number of elements), so large gradients pass.",
       "The threshold shrinks as the model grows; clipping effectively switches off for big models.",
       "Sum the squares, do not average them: sqrt(sum of g ** 2)."),
    _m("scaled-a-copy", "A copy of the gradients was scaled, not the gradients", scaled_a_copy,
       "Your code computed scaled gradients out of place (g * coef, g.clone().mul_(...), torch.mul) or "
       "rebound a local name, and never wrote the result back.",
       "The norm is right, but every p.grad is unchanged after the call.",
       "The optimiser reads p.grad, so it takes the full, unclipped step.",
       "Scale in place: p.grad.mul_(coef) (or p.grad.detach().mul_(coef))."),
    _m("scaled-weights", "The weights were scaled instead of the gradients", scaled_weights,
       "Your code multiplied the parameters themselves (p or p.data) by the clipping coefficient.",
       "The gradients are unchanged and the weights shrink whenever the norm exceeds max_norm.",
       "Shrinking the weights destroys what the model has learnt while the update stays unclipped.",
       "Multiply p.grad, not p: p.grad.mul_(coef)."),
    _m("inverted-comparison", "The comparison is the wrong way round", inverted_comparison,
       "Your code rescaled when the norm was below max_norm and left it alone when it was above.",
       "Large gradients pass untouched and small ones are stretched up to max_norm.",
       "Exploding gradients, the case clipping exists for, go straight to the optimiser.",
       "Scale only when total_norm > max_norm, or use the unconditional min(1, max_norm / (total_norm + 1e-6))."),
    _m("last-tensor-only", "Only the last gradient was counted in the norm", last_tensor_only,
       "Your code assigned the squared norm inside the loop (`s = ...`) instead of accumulating it (`s += ...`).",
       "The norm is that of the last gradient alone, so the others' size is ignored.",
       "A large gradient anywhere but in the last tensor is never clipped.",
       "Start from zero and accumulate: total_sq = 0, then total_sq += (g ** 2).sum() for every gradient."),
    _m("first-grad-only", "Only the first gradient was scaled", first_grad_only,
       "Your code applied the coefficient to the first gradient only (an early return, or a loop that stops "
       "after one).",
       "The first p.grad is clipped and every later one keeps its original length.",
       "The update changes direction and its length is still unbounded.",
       "Multiply every gradient by the coefficient, and return only after the loop."),
    _m("elementwise-clamp", "Entries clamped instead of the norm scaled", elementwise_clamp,
       "Your code clamped each gradient entry to [-max_norm, max_norm], which is value clipping.",
       "The global norm after the call can still be far above max_norm and the direction changes.",
       "Clamping entries lets a large vector keep a huge norm and bends the update; norm clipping keeps the "
       "direction and bounds the length.",
       "Scale every gradient by min(1, max_norm / (total_norm + 1e-6)) instead of clamping entries."),
    _m("no-eps", "Zero gradients divided by a zero norm", no_eps,
       "Your code divided by the norm without the small 1e-6 term (e.g. min(norm, max_norm) / norm).",
       "When every gradient is zero the coefficient is 0 / 0 and the gradients become NaN.",
       "One all-zero batch (frozen layers, a masked loss) turns the weights into NaN at the next step.",
       "Divide by (total_norm + 1e-6), as PyTorch does, and cap the coefficient at 1."),
    _m("half-precision-sum", "Squares summed in float16", half_precision_sum,
       "Your code squared and summed float16 gradients in float16.",
       "Squares overflow to inf (float16 stops at 65504), the norm is inf and every gradient becomes 0 "
       "(or NaN).",
       "Mixed-precision training silently zeroes its updates whenever gradients are moderately large.",
       "Compute each tensor's norm with torch.linalg.vector_norm (which accumulates safely), or convert to "
       "float32 before squaring."),
    _m("deduplicated", "A parameter listed twice was counted once", deduplicated,
       "Your code removed repeated parameters (a set, a dict by id) before clipping.",
       "When the same tensor appears twice, PyTorch counts its gradient twice and scales it twice; your "
       "norm and gradients differ.",
       "Matching torch exactly matters when a clipping routine replaces the built-in in shared code "
       "(tied weights are passed twice in some models).",
       "Keep the list as given: do not de-duplicate."),
    _m("tensor-iterated", "A single tensor was iterated row by row", tensor_iterated,
       "Your code looped over `parameters` without wrapping a lone tensor in a list first.",
       "Iterating a tensor gives its rows, which have no .grad: nothing is clipped and the norm is 0 "
       "(or the call raises on a 0-d tensor).",
       "clip_grad_norm_(model.weight, 1.0) is a common call; it would silently do nothing.",
       "if isinstance(parameters, torch.Tensor): parameters = [parameters]."),
    _m("returns-nothing", "Nothing was returned", returns_nothing,
       "Your function clipped the gradients but returned None.",
       "Callers that log the gradient norm get None.",
       "The pre-clip norm is the main signal for diagnosing exploding gradients.",
       "Return the global norm computed before scaling (tensor(0.) when there is no gradient)."),
    _m("stack-of-nothing", "torch.stack of an empty list when no parameter has a gradient", stack_of_nothing,
       "Your code stacks the per-parameter norms without first checking that there is at least one gradient.",
       "With an empty list, or when every p.grad is None, torch.stack([]) raises \"stack expects a non-empty "
       "TensorList\" instead of returning 0.",
       "Early in training, or with a frozen model, no parameter may have a gradient yet; clipping must not "
       "crash the training loop then.",
       "After filtering out None grads: if not grads: return torch.tensor(0.0)."),
    _m("spectral-norm", "Matrix 2-norm (largest singular value) instead of the norm of all elements",
       spectral_norm,
       "Your code took torch.linalg.norm(g, 2) of each gradient; for a 2-D gradient ord=2 means the matrix "
       "2-norm, its largest singular value.",
       "Vectors are fine, but every weight matrix gets a norm that is too small, so clipping happens too late "
       "and too little (and 0-d or 3-d gradients make it raise).",
       "Clipping by global norm bounds the length of the whole update, sqrt of the sum of every element "
       "squared; the spectral norm is a different quantity.",
       "Use torch.linalg.vector_norm(g) (or g.norm(2), which flattens) for each gradient."),
    _m("truthy-grad-filter", "Parameters filtered on the truth value of p.grad", truthy_grad_filter,
       "Your code filtered with `filter(lambda p: p.grad, ...)` (or `if p.grad:`), which asks for the truth "
       "value of a tensor instead of testing `p.grad is not None`.",
       "Any gradient with more than one element raises \"Boolean value of Tensor with more than one value is "
       "ambiguous\"; a one-element gradient equal to 0 is silently dropped.",
       "A missing gradient is None, not a false tensor: the test must be about None.",
       "Filter with `lambda p: p.grad is not None`.", static=grad_truth_test),
    _m("nan-slips-past-guard", "A NaN norm slips past the `if clip_coef < 1` guard", nan_slips_past_guard,
       "Your code scales only `if clip_coef < 1`; when a gradient holds a NaN the norm is NaN, the comparison "
       "is False, and nothing is scaled.",
       "With a NaN anywhere, torch.nn.utils.clip_grad_norm_ turns every gradient into NaN (the coefficient is "
       "NaN); your code leaves the finite gradients unscaled next to the NaN one.",
       "PyTorch makes a non-finite norm impossible to miss (every gradient NaN, or an error with "
       "error_if_nonfinite=True); a step taken with part of the gradients silently unclipped hides it. This is "
       "the parity tier: the interview question does not ask for it.",
       "Multiply unconditionally by torch.clamp(max_norm / (total_norm + 1e-6), max=1.0), or check "
       "torch.isfinite(total_norm) and raise."),
    _m("squared-norm-compared", "The squared norm was compared with max_norm", norm_squared_compared,
       "Your code compared the sum of squares (the squared norm) with max_norm instead of the norm itself.",
       "Gradients whose norm lies between sqrt(max_norm) and max_norm are clipped when they should not be "
       "(or not clipped, for max_norm < 1).",
       "The effective threshold is sqrt(max_norm), not max_norm.",
       "Take the square root first, then compare (or use the clamped coefficient, which needs no comparison)."),
]

GRADS = {
    "pair": [[3.0, 4.0], [12.0]],
    "three": [[1.0, -2.0, 2.0], [4.0, 0.0], [0.5, 0.5, 0.5, 0.5]],
}


def _probe(grads, max_norm, container="list", dtype="float64", order=None) -> Scenario:
    params: list[Param] = [{"value": np.full(np.shape(g) if g is not None else (2,), 0.5, dtype=dtype),
               "grad": None if g is None else np.asarray(g, dtype=dtype)} for g in grads]
    s: Scenario = {"params": params, "container": container, "max_norm": float(max_norm)}
    if order is not None:
        s["order"] = order
    return s


# A battery that tells the mutants apart: each differs from the reference on
# some probe and from every other mutant on at least one.
PROBES = [
    _probe(GRADS["pair"], 6.5),
    _probe(GRADS["pair"], 100.0),
    _probe(GRADS["three"], 2.0),
    _probe(GRADS["three"], 30.0),
    _probe([[12.0], [3.0, 4.0]], 6.5),
    _probe([[0.3, 0.4], [0.2]], 0.55),
    _probe([[3.0, 4.0], [12.0], [1.0, -2.0, 2.0]], 1.0, container="generator"),
    _probe([[6.0, 8.0]], 5.0, container="single"),
    _probe([[[6.0, 8.0], [0.0, 0.0]]], 5.0, container="single"),
    _probe([[3.0, 4.0], None, [12.0]], 6.5),
    _probe([[0.0, 0.0], [0.0]], 1.0),
    _probe([[200.0, 200.0], [200.0, 200.0]], 1.0, dtype="float16"),
    _probe([[3.0, 4.0], [12.0]], 6.5, order=[0, 0, 1]),
    _probe([[30.0, 40.0]], 7.0),
    _probe([[0.6, 0.8]], 0.5),
    _probe([[2.0, 0.0]], 3.0),
    _probe([None, None], 1.0),
    _probe([[[3.0, 4.0], [1.0, 2.0]], [0.5]], 1.0),
    _probe([[0.0], [3.0]], 1.0),
    _probe([[float("nan"), 1.0], [2.0]], 1.0),
]
