"""The usual mistakes in train_rnn_with_clipping: mutants and feedback.

Each mutant is the reference loop with one thing changed, written the way a
student would write it. They run only in the trusted process.
"""

from __future__ import annotations

import math

import torch

from gradkata.mistakes import maker

from .scenarios import scenario

SLUG = "train_rnn_with_clipping"


def _evaluate(model, loader, criterion, device):
    model.eval()
    with torch.no_grad():
        for x, y in loader:
            output, _ = model(x.to(device))
            criterion(output.view(-1, output.size(-1)), y.to(device).view(-1))


def _loop(*, optimizer_cls=torch.optim.Adam, zero=True, clip="before", nan="before", train_mode=True):
    def train_rnn_with_clipping(model, train_loader, val_loader, epochs, lr, max_norm, device):
        optimizer = optimizer_cls(model.parameters(), lr=lr)
        criterion = torch.nn.CrossEntropyLoss()
        for _ in range(epochs):
            if train_mode:
                model.train()
            for x, y in train_loader:
                if zero:
                    optimizer.zero_grad()
                output, _ = model(x.to(device))
                loss = criterion(output.view(-1, output.size(-1)), y.to(device).view(-1))
                bad = not math.isfinite(loss.item())
                if bad and nan == "before":
                    break
                loss.backward()
                if clip == "before":
                    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
                optimizer.step()
                if clip == "after":
                    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
                if bad and nan == "after":
                    break
            _evaluate(model, val_loader, criterion, device)
        return model

    return train_rnn_with_clipping


_m = maker(SLUG, "train_rnn_with_clipping")


MISTAKES = [
    _m("clips-after-step", "Clipped after optimizer.step()", _loop(clip="after"),
       "Your loop called clip_grad_norm_ after optimizer.step().",
       "The optimizer saw gradient norms above max_norm; the clipped gradients are thrown away by the next "
       "zero_grad.",
       "Clipping after the update is the same as not clipping: one exploding batch still throws the RNN's "
       "weights far off.",
       "Order: zero_grad, forward, loss.backward(), clip_grad_norm_, optimizer.step()."),
    _m("no-clipping", "Never clipped", _loop(clip=None),
       "Your loop never clipped the gradients.",
       "The optimizer saw gradient norms above max_norm.",
       "Vanilla RNNs are where exploding gradients happen (backpropagation through time multiplies by the "
       "recurrent weights at every step); without clipping one bad batch can wreck training.",
       "Call torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm) between backward and step."),
    _m("no-nan-break", "Trained on through NaN losses", _loop(nan=None),
       "Your loop did not check the loss for NaN/Inf.",
       "A NaN loss was back-propagated and stepped on; every weight became NaN and training went on "
       "producing NaN.",
       "Once a weight is NaN every later output is NaN: the run is lost, and clipping cannot help because the "
       "norm itself is NaN.",
       "After the forward pass: if not math.isfinite(loss.item()): print a warning and break."),
    _m("nan-check-after-step", "Checked for NaN only after stepping", _loop(nan="after"),
       "Your loop detected the NaN loss after optimizer.step(), as in the seed article's loop.",
       "The epoch stops, but one update from the NaN loss has already turned the weights into NaN.",
       "The check is meant to protect the weights; after the step it only reports the damage.",
       "Test the loss right after computing it and break before loss.backward() and optimizer.step()."),
    _m("no-train-mode", "model.train() not called each epoch", _loop(train_mode=False),
       "Your loop never put the model back in training mode after evaluate() switched it to eval mode.",
       "From the second epoch on, dropout is off while training, so the weights differ from a loop that "
       "calls model.train() (a model without dropout or batch norm does not show it).",
       "Parity tier: dropout and batch norm behave differently in training; training in eval mode silently "
       "turns off the regularisation the model was designed with.",
       "Call model.train() at the start of every epoch, as the article's loop does, and model.eval() in "
       "evaluate()."),
    _m("sgd-instead-of-adam", "SGD instead of Adam", _loop(optimizer_cls=torch.optim.SGD),
       "Your loop created torch.optim.SGD.",
       "The weights after training differ from those Adam produces with the same lr.",
       "The loop's learning rate and threshold were chosen for Adam; plain SGD with that lr barely moves an "
       "RNN.",
       "optimizer = torch.optim.Adam(model.parameters(), lr=lr), created once before the first epoch."),
    _m("missing-zero-grad", "Gradients never cleared", _loop(zero=False),
       "Your loop never called optimizer.zero_grad() (or model.zero_grad()).",
       "Each step's gradient is the sum of all batches so far, so the weights drift away from the expected "
       "ones even though every step is clipped.",
       "Accumulated gradients point in stale directions and grow without bound, so clipping is active on "
       "every step and learning is slow and wrong.",
       "Call optimizer.zero_grad() at the start of every batch."),
]

PROBES = [
    scenario(gain=2.0),
    scenario(batches=3, nan_batch=1, epochs=2, gain=2.0),
    scenario(dropout=0.5, epochs=3, batches=2, val_batches=1, gain=1.5, max_norm=0.5),
]
