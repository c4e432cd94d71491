"""Kata: clip a sharded model's gradients by the global norm, with torch.distributed collectives."""

from __future__ import annotations

from .._kata import Kata


def _oracle() -> dict:
    import torch

    def clip_grad_norm_distributed(parameters, max_norm, norm_type=2.0, group=None):
        return torch.nn.utils.clip_grad_norm_(parameters, max_norm, norm_type)

    # The driver runs it once on the whole, unsharded model: PyTorch's own
    # clip_grad_norm_ is the oracle for what the ranks must agree on.
    clip_grad_norm_distributed.unsharded = True  # type: ignore[attr-defined]
    return {"clip_grad_norm_distributed": clip_grad_norm_distributed}


STUB = '''
import torch
import torch.distributed as dist


def clip_grad_norm_distributed(parameters, max_norm, norm_type=2.0, group=None):
    """Clip a sharded model's gradients by the global norm of the whole model, in place.

    This function runs on every rank of ``group`` at once (torch.distributed is
    initialised; group=None means the default group). Each rank passes its own
    parameters:

    * a *sharded* parameter is this rank's piece of a larger tensor (a slice of a
      tensor-parallel weight, an FSDP shard): the pieces of all ranks together
      make the whole tensor;
    * a *replicated* parameter, marked ``p.replicated = True`` (a LayerNorm weight
      in tensor parallelism), is the same tensor with the same gradient on every
      rank: it belongs to the model once.

    The global norm is that of every gradient of the whole model, as if it were
    one process:

        total_norm = (sum over the whole model of |g|^p) ** (1/p), or the largest
        |g| for norm_type = inf

    and every rank multiplies its gradients by the same

        clip_coef = min(1, max_norm / (total_norm + 1e-6)).

    Use torch.distributed collectives (dist.all_reduce with dist.ReduceOp.SUM or
    MAX, group=group) to combine the ranks' shares. A rank whose parameters have
    no gradient (or that holds no parameter at all) must still take part in
    every collective, or the other ranks wait for it forever. Gradients may be
    float16 or bfloat16: accumulate in float32 or wider, the same dtype on every
    rank (an all-reduce needs it).

    Args:
        parameters: an iterable of this rank's parameters (a list or a generator;
            iterate it once). Parameters whose ``.grad`` is None are skipped.
        max_norm: the largest global norm allowed after clipping.
        norm_type: 2.0 (default) or float("inf").
        group: the process group (None: the default group).

    Returns:
        The global norm of the whole model before clipping, as a tensor, the same
        on every rank.

    Example:
        two ranks, rank 0's shard grad [3, 4], rank 1's [12], no replicated
        parameter: the global norm is 13 on both ranks; with max_norm 6.5 rank 0's
        grad becomes [1.5, 2] and rank 1's [6].
    """
    raise NotImplementedError("clip_grad_norm_distributed is not implemented yet")
'''

KATA = Kata(
    slug="clip_grad_norm_distributed",
    title="Clip gradients by the global norm across ranks",
    # Chapter 07 (clipping in LLM training), beside ZClip: ZClip's cells may call clip_grad_norm_,
    # which this kata forbids, but only a call made by this kata's own code costs its points.
    topic="distributed",
    summary="Implement clip_grad_norm_distributed(parameters, max_norm, norm_type=2.0, group=None): each rank "
    "holds its shard of the model (replicated parameters marked p.replicated = True); combine the ranks' "
    "shares with torch.distributed collectives into the global norm of the whole model and clip every "
    "rank's gradients by the same coefficient. PyTorch's clip_grad_norm_ on the unsharded model is the "
    "oracle; do not call it.",
    functions=("clip_grad_norm_distributed",),
    stub=STUB,
    forbid=("clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"),
    oracle=_oracle,
)
