"""The usual mistakes in distributed global-norm clipping: mutants and feedback.

Each mutant is the reference with one bug, written the way it appears in real
trainers' code (Megatron-LM, FSDP, DeepSpeed: see docs/notes/dist.md). They run
only in the trusted process, on ranks that are threads with real gloo groups.
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist

from gradkata.mistakes import maker

EPS = 1e-6
SLUG = "clip_grad_norm_distributed"


def _split(parameters):
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    with_grad = [p for p in params if p.grad is not None]
    sharded = [p.grad for p in with_grad if not getattr(p, "replicated", False)]
    replicated = [p.grad for p in with_grad if getattr(p, "replicated", False)]
    return sharded, replicated


def _local(grads, norm_type):
    if not grads:
        return torch.zeros((), dtype=torch.float64)
    norms = torch.stack([torch.linalg.vector_norm(g.detach(), norm_type, dtype=torch.float64) for g in grads])
    return norms.max() if math.isinf(norm_type) else norms.pow(norm_type).sum()


def _combine(total, mine, norm_type):
    return torch.maximum(total, mine) if math.isinf(norm_type) else (total + mine) ** (1.0 / norm_type)


def _op(norm_type):
    return dist.ReduceOp.MAX if math.isinf(norm_type) else dist.ReduceOp.SUM


def _scale(grads, coef):
    for g in grads:
        g.detach().mul_(coef.to(g.dtype))


def _clipped(total, max_norm):
    return torch.clamp(max_norm / (total + EPS), max=1.0)


def local_norm_only(parameters, max_norm, norm_type=2.0, group=None):
    norm_type = float(norm_type)
    sharded, replicated = _split(parameters)
    total = _combine(_local(sharded, norm_type), _local(replicated, norm_type), norm_type)  # no collective
    _scale(sharded + replicated, _clipped(total, max_norm))
    return total


def norms_summed(parameters, max_norm, norm_type=2.0, group=None):
    norm_type = float(norm_type)
    sharded, replicated = _split(parameters)
    mine = _local(sharded, norm_type)
    norm = mine if math.isinf(norm_type) else mine ** (1.0 / norm_type)  # this rank's norm, not its square
    dist.all_reduce(norm, op=_op(norm_type), group=group)
    rep = _local(replicated, norm_type)
    total = torch.maximum(norm, rep) if math.isinf(norm_type) else (norm ** norm_type + rep) ** (1.0 / norm_type)
    _scale(sharded + replicated, _clipped(total, max_norm))
    return total


def replicated_counted_per_rank(parameters, max_norm, norm_type=2.0, group=None):
    norm_type = float(norm_type)
    sharded, replicated = _split(parameters)
    total = _local(sharded + replicated, norm_type)  # replicated ones reduced with the shards
    dist.all_reduce(total, op=_op(norm_type), group=group)
    total = total if math.isinf(norm_type) else total ** (1.0 / norm_type)
    _scale(sharded + replicated, _clipped(total, max_norm))
    return total


def averaged(parameters, max_norm, norm_type=2.0, group=None):
    norm_type = float(norm_type)
    sharded, replicated = _split(parameters)
    total = _local(sharded, norm_type)
    dist.all_reduce(total, op=_op(norm_type), group=group)
    if not math.isinf(norm_type):
        total = total / dist.get_world_size(group)  # ReduceOp.AVG, which gloo lacks, written out
    total = _combine(total, _local(replicated, norm_type), norm_type)
    _scale(sharded + replicated, _clipped(total, max_norm))
    return total


def sum_for_inf(parameters, max_norm, norm_type=2.0, group=None):
    norm_type = float(norm_type)
    sharded, replicated = _split(parameters)
    total = _local(sharded, norm_type)
    dist.all_reduce(total, op=dist.ReduceOp.SUM, group=group)  # SUM whatever the norm
    total = _combine(total, _local(replicated, norm_type), norm_type)
    _scale(sharded + replicated, _clipped(total, max_norm))
    return total


def skips_collective_when_empty(parameters, max_norm, norm_type=2.0, group=None):
    norm_type = float(norm_type)
    sharded, replicated = _split(parameters)
    if not sharded and not replicated:
        return torch.zeros(())  # nothing to clip here... but the other ranks wait for this one
    total = _local(sharded, norm_type)
    dist.all_reduce(total, op=_op(norm_type), group=group)
    total = _combine(total, _local(replicated, norm_type), norm_type)
    _scale(sharded + replicated, _clipped(total, max_norm))
    return total


def reduced_after_clipping(parameters, max_norm, norm_type=2.0, group=None):
    norm_type = float(norm_type)
    sharded, replicated = _split(parameters)
    mine = _combine(_local(sharded, norm_type), _local(replicated, norm_type), norm_type)
    _scale(sharded + replicated, _clipped(mine, max_norm))  # clipped by this rank's norm alone
    total = _local(sharded, norm_type)  # and only then combined across ranks
    dist.all_reduce(total, op=_op(norm_type), group=group)
    return _combine(total, _local(replicated, norm_type), norm_type)


def coefficient_inverted(parameters, max_norm, norm_type=2.0, group=None):
    norm_type = float(norm_type)
    sharded, replicated = _split(parameters)
    total = _local(sharded, norm_type)
    dist.all_reduce(total, op=_op(norm_type), group=group)
    total = _combine(total, _local(replicated, norm_type), norm_type)
    coef = torch.clamp(max_norm / (total + EPS), min=1.0)  # torch.max(1, coef): DeepSpeed #4915
    _scale(sharded + replicated, coef)
    return total


_m = maker(SLUG, "clip_grad_norm_distributed")

MISTAKES = [
    _m("local-norm-only", "Each rank clipped by its own shard's norm", local_norm_only,
       "Your code computed the norm of this rank's gradients only and never combined the ranks' shares.",
       "Each rank returns a different, too small norm and clips by its own coefficient: with more than one rank "
       "the model as a whole is clipped too little, and differently on each rank.",
       "Different coefficients on different shards change the direction of the update, and the norm that is "
       "bounded is not the model's; a single-process test cannot see it.",
       "Reduce the ranks' shares with dist.all_reduce(share, op=dist.ReduceOp.SUM) (sum of squares for L2) "
       "before taking the root, so every rank gets the same global norm."),
    _m("norms-summed", "Per-rank norms were all-reduced instead of squared norms", norms_summed,
       "Your code all-reduced each rank's norm (the square root already taken) with SUM.",
       "The result is ||g_0|| + ||g_1|| + ..., larger than the global norm sqrt(||g_0||^2 + ||g_1||^2 + ...): "
       "gradients are clipped too hard, more so the more ranks there are.",
       "Norms do not add up; squares do. The same model trained on more GPUs would get smaller steps.",
       "All-reduce the sum of squares (|g|^p for norm_type p) with SUM and take the root afterwards."),
    _m("replicated-counted-per-rank", "Replicated parameters were counted on every rank",
       replicated_counted_per_rank,
       "Your code added the replicated parameters' squares to the shards' before the all-reduce.",
       "Every rank holds the same replicated gradient, so the reduction counts it world-size times: the norm "
       "is too large and the gradients are clipped too hard.",
       "In tensor parallelism LayerNorm weights and biases are replicated; FSDP1 and Megatron take care to "
       "count them once (Megatron: only on tensor-parallel rank 0).",
       "Reduce only the sharded parameters' share; add the replicated ones' share once, after the reduction "
       "(or only on rank 0 before it)."),
    _m("averaged", "The ranks' shares were averaged instead of summed", averaged,
       "Your code averaged the ranks' sums of squares (ReduceOp.AVG, or SUM then / world_size).",
       "The norm is smaller than the whole model's by about sqrt(world_size): large gradients pass unclipped.",
       "Data parallelism averages gradients, but the shards of one model are parts of one vector: their "
       "squares add up. Averaging makes the threshold grow with the number of ranks.",
       "Use dist.ReduceOp.SUM on the sums of squares."),
    _m("sum-for-inf", "SUM used for the inf-norm", sum_for_inf,
       "Your code all-reduced the ranks' largest entries with SUM for norm_type=inf.",
       "The inf-norm is the largest |g| anywhere; adding the ranks' maxima overstates it and clips too hard.",
       "The reduction must match the norm: the max of maxima is the global max, the sum of maxima is nothing.",
       "For norm_type=inf reduce with dist.ReduceOp.MAX (and combine the replicated share with max too)."),
    _m("skips-collective-when-empty", "A rank without gradients skipped the collective",
       skips_collective_when_empty,
       "Your code returned early on a rank with no gradient, before the all-reduce.",
       "The other ranks wait in the all-reduce for a rank that never comes: a deadlock, which training sees "
       "as a hang until the collective times out.",
       "Frozen layers, unused parameters or more ranks than shards leave ranks without gradients; one early "
       "return stops the whole job.",
       "Let every rank take part: a rank with no gradient contributes 0 (torch.zeros(())) to the all-reduce."),
    _m("reduced-after-clipping", "Clipped by the local norm, reduced afterwards", reduced_after_clipping,
       "Your code clipped each rank's gradients by its own norm first and combined the ranks' norms only "
       "afterwards.",
       "Each rank uses a different coefficient, and the returned norm is that of the clipped gradients.",
       "The coefficient must come from the whole model's norm before clipping; reducing afterwards only "
       "measures the damage.",
       "Compute the global norm (all-reduce) first, then multiply every rank's gradients by the same "
       "min(1, max_norm / (total + 1e-6)), and return the norm before clipping."),
    _m("coefficient-inverted", "The clipping coefficient was capped from below", coefficient_inverted,
       "Your code clamped the coefficient with min=1 (torch.max(1, coef)) instead of max=1.",
       "Gradients above max_norm are never shrunk, and those below it are scaled up to length max_norm.",
       "This exact bug shipped in DeepSpeed (#4915) and was reverted 13 days later (#5150): clipping silently "
       "stopped and small updates were blown up.",
       "coef = torch.clamp(max_norm / (total + 1e-6), max=1.0), i.e. min(1, ...)."),
]


def _probe(shards, replicated=(), max_norm=1.0, norm_type=2.0):
    from .suite import scenario

    return scenario(shards, replicated, max_norm=max_norm, norm_type=norm_type)


# A battery that tells the mutants apart: each differs from the reference on
# some probe and from every other mutant on at least one.
PROBES = [
    _probe([[[3.0, 4.0]], [[12.0]]], max_norm=6.5),
    _probe([[[0.3, 0.4]], [[1.2]]], max_norm=100.0),
    _probe([[[0.1]], [[0.2]], [[0.1]], [[0.2]]], replicated=[[6.0, 8.0]], max_norm=5.0),
    _probe([[[3.0, -4.0]], [[12.0]], [[-2.0]], [[5.0]]], replicated=[[1.0]], max_norm=6.0, norm_type=math.inf),
    _probe([[[3.0, 4.0]], [[12.0]], [None], [[0.0, 1.0]]], max_norm=6.5),
]
