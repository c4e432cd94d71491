"""An RNN training loop with clipping.

Implement train_rnn_with_clipping(model, train_loader, val_loader, epochs, lr,
max_norm, device): Adam and cross-entropy, gradient norm monitored before
clipping, clipped before every step, an epoch stopped at a NaN/Inf loss,
validation after every epoch; return the model.

Run `gradkata check train_rnn_with_clipping` to try the visible examples,
`gradkata grade` for the full hidden suite.
"""

import math

import torch
import torch.nn as nn


def evaluate(model, loader, criterion, device):
    """Mean validation loss: the model in eval mode, no gradients recorded
    (torch.no_grad()), every batch of ``loader``; return a float.
    train_rnn_with_clipping calls it once at the end of every epoch."""
    raise NotImplementedError("evaluate is not implemented yet")


def train_rnn_with_clipping(model, train_loader, val_loader, epochs, lr, max_norm, device):
    """Train a recurrent classifier with gradient clipping and a NaN guard.

    For each of ``epochs`` epochs, put the model in training mode and, for
    every batch (x, y) of ``train_loader`` (moved to ``device``):
      1. clear the old gradients,
      2. forward: ``output, _ = model(x)``; output has shape
         (batch, time, classes) and y (batch, time) holds class indices;
         loss = nn.CrossEntropyLoss() of
         ``output.view(-1, output.size(-1))`` and ``y.view(-1)``,
      3. if the loss is NaN or Inf, print a warning and stop this epoch at
         once (break) -- *before* backward and step: one update from a NaN
         loss turns every weight into NaN (parity tier: the article checks
         after optimizer.step(), when the weights are already NaN),
      4. loss.backward(),
      5. monitor: compute the global gradient norm *before* clipping (print
         it or keep it; this is what tells you max_norm is sensible),
      6. clip the gradients to global norm ``max_norm``,
      7. optimizer.step() with torch.optim.Adam(model.parameters(), lr=lr),
         created once before the first epoch.
    After each epoch (also one that stopped early) call
    ``evaluate(model, val_loader, criterion, device)`` and print both losses.

    You may use ``torch.nn.utils.clip_grad_norm_``.

    Returns:
        The trained model (the same object).
    """
    raise NotImplementedError("train_rnn_with_clipping is not implemented yet")
