"""Reference: the RNN loop -- Adam, cross-entropy, norm monitored before clipping, clip before step,
an epoch stopped at a NaN/Inf loss before it reaches the weights, validation after each epoch."""

from __future__ import annotations

import math

import torch
import torch.nn as nn


def evaluate(model, loader, criterion, device):
    model.eval()
    total, batches = 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            output, _ = model(x)
            total += criterion(output.view(-1, output.size(-1)), y.view(-1)).item()
            batches += 1
    return total / max(batches, 1)


def _grad_norm(model) -> float:
    squares = sum(float(p.grad.detach().double().pow(2).sum()) for p in model.parameters() if p.grad is not None)
    return math.sqrt(squares)


def train_rnn_with_clipping(model, train_loader, val_loader, epochs, lr, max_norm, device):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    norms = []
    for epoch in range(epochs):
        model.train()
        total_loss, seen = 0.0, 0
        for batch_idx, (x, y) in enumerate(train_loader):
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            output, _ = model(x)
            loss = criterion(output.view(-1, output.size(-1)), y.view(-1))
            # Checked before backward: stepping on a NaN loss would poison every weight.
            if not math.isfinite(loss.item()):
                print(f"NaN/Inf loss at epoch {epoch + 1}, batch {batch_idx}: stopping this epoch")
                break
            loss.backward()
            norms.append(_grad_norm(model))  # before clipping: the raw size of the gradients
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
            total_loss += loss.item()
            seen += 1
        val_loss = evaluate(model, val_loader, criterion, device)
        print(f"Epoch {epoch + 1}: train loss {total_loss / max(seen, 1):.4f}, val loss {val_loss:.4f}")
    if norms:
        clipped = sum(n > max_norm for n in norms) / len(norms)
        print(f"{len(norms)} steps, {clipped:.1%} clipped, largest pre-clip norm {max(norms):.4f}")
    return model
