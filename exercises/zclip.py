"""ZClip: z-score gradient clipping (as in LLM training).

Implement class ZClip(alpha=0.97, z_thresh=2.5, max_grad_norm=1.0,
warmup_steps=25) whose step(model) computes the pre-clip global gradient norm,
clips a spike (z-score of the norm against an EMA of its mean and variance
above z_thresh) to mean + z_thresh * std, never lets the norm exceed
max_grad_norm, updates the EMA with the clipped norm (after a warm-up that
collects norms) and returns the norm used.

Run `gradkata check zclip` to try the visible examples,
`gradkata grade` for the full hidden suite.
"""

import math

import torch


class ZClip:
    """ZClip (Kumar et al. 2025): clip a gradient spike by how far its norm
    stands from the recent norms, measured in standard deviations (a z-score).

    The clipper keeps an exponential moving average (EMA) of the global gradient
    norm's mean and variance. Every call to ``step(model)``:

      1. computes ``total_norm``, the global L2 norm of the model's gradients
         (skip parameters whose .grad is None), before any clipping;
      2. picks the threshold:
         - during warm-up (the first ``warmup_steps`` calls) it is
           ``max_grad_norm``;
         - afterwards, with ``std = sqrt(var)`` and
           ``z = (total_norm - mean) / (std + 1e-6)``: if ``z > z_thresh`` the
           threshold is ``min(mean + z_thresh * std, max_grad_norm)``, otherwise
           ``max_grad_norm``;
         ``max_grad_norm=None`` means no ceiling (an infinite threshold);
      3. clips: scales every gradient by
         ``min(1, threshold / (total_norm + 1e-6))`` (what
         ``torch.nn.utils.clip_grad_norm_(params, threshold)`` does; with an
         infinite threshold nothing changes);
      4. ``used = min(total_norm, threshold)``: the norm this step counts;
      5. updates the statistics:
         - during warm-up, appends ``total_norm`` (unclipped) to a list; on the
           ``warmup_steps``-th call, sets ``mean`` to the list's mean and ``var``
           to its population variance (divide by n, not n - 1);
         - afterwards, with the clipped value ``used``:
           ``mean = alpha * mean + (1 - alpha) * used``, then
           ``var = alpha * var + (1 - alpha) * (used - mean) ** 2`` (the new mean);
      6. returns ``used`` as a Python float.

    So call ``warmup_steps + 1`` is the first to use the z-score. ``warmup_steps``
    is at least 1.

    Args:
        alpha: EMA decay (0.97 in the paper: about 33 steps of memory).
        z_thresh: how many standard deviations above the mean count as a spike.
        max_grad_norm: a hard ceiling on the norm, on every step (None: none).
        warmup_steps: how many calls only collect norms before the z-score starts.
    """

    def __init__(self, alpha=0.97, z_thresh=2.5, max_grad_norm=1.0, warmup_steps=25):
        raise NotImplementedError("ZClip is not implemented yet")

    def step(self, model):
        """Compute the norm, choose the threshold, clip, update the EMA; return the norm used."""
        raise NotImplementedError("ZClip.step is not implemented yet")
