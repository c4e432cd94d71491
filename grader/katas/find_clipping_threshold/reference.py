"""Reference: per-batch pre-clip global gradient norms, and their 90th percentile."""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch


def _global_norm(model: torch.nn.Module) -> float:
    squares = 0.0
    for p in model.parameters():
        if p.grad is not None:
            squares += float(p.grad.detach().double().pow(2).sum())
    return math.sqrt(squares)


def find_clipping_threshold(model, dataloader, criterion, device, num_batches=100):
    model.train()
    norms = []
    # islice stops after num_batches without drawing one batch too many.
    for x, y in itertools.islice(dataloader, num_batches):
        x, y = x.to(device), y.to(device)
        # Each norm must be this batch's alone: clear what earlier batches left.
        model.zero_grad()
        output = model(x)
        loss = criterion(output.view(-1, output.size(-1)), y.view(-1))
        loss.backward()
        norms.append(_global_norm(model))
    norms_array = np.asarray(norms, dtype=np.float64)
    return norms_array, float(np.percentile(norms_array, 90))
