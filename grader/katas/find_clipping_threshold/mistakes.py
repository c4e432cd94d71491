"""The usual mistakes in find_clipping_threshold: mutants and feedback.

Each mutant is the reference with one bug, written the way a student would
write it. They run only in the trusted process.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch

from gradkata.mistakes import maker

from .scenarios import scenario

SLUG = "find_clipping_threshold"


def _norm(model) -> float:
    return math.sqrt(sum(float(p.grad.double().pow(2).sum()) for p in model.parameters() if p.grad is not None))


def _loss(model, criterion, x, y, device):
    output = model(x.to(device))
    return criterion(output.view(-1, output.size(-1)), y.to(device).view(-1))


def _measure(model, dataloader, criterion, device, num_batches, *, zero=True, norm=_norm, before_norm=None,
             train=True):
    if train:
        model.train()
    norms = []
    for x, y in itertools.islice(dataloader, num_batches):
        if zero:
            model.zero_grad()
        _loss(model, criterion, x, y, device).backward()
        if before_norm is not None:
            before_norm(model)
        norms.append(norm(model))
    return np.asarray(norms)


def accumulates(model, dataloader, criterion, device, num_batches=100):
    norms = _measure(model, dataloader, criterion, device, num_batches, zero=False)
    return norms, float(np.percentile(norms, 90))


def changes_weights(model, dataloader, criterion, device, num_batches=100):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    norms = []
    for x, y in itertools.islice(dataloader, num_batches):
        optimizer.zero_grad()
        _loss(model, criterion, x, y, device).backward()
        norms.append(_norm(model))
        optimizer.step()  # trains while measuring
    norms_array = np.asarray(norms)
    return norms_array, float(np.percentile(norms_array, 90))


def post_clip(model, dataloader, criterion, device, num_batches=100):
    norms = _measure(model, dataloader, criterion, device, num_batches,
                     before_norm=lambda m: torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0))
    return norms, float(np.percentile(norms, 90))


def sum_of_norms(model, dataloader, criterion, device, num_batches=100):
    norms = _measure(model, dataloader, criterion, device, num_batches,
                     norm=lambda m: sum(float(p.grad.norm()) for p in m.parameters() if p.grad is not None))
    return norms, float(np.percentile(norms, 90))


def median(model, dataloader, criterion, device, num_batches=100):
    norms = _measure(model, dataloader, criterion, device, num_batches)
    return norms, float(np.median(norms))


def ignores_num_batches(model, dataloader, criterion, device, num_batches=100):
    norms = _measure(model, dataloader, criterion, device, None)
    return norms, float(np.percentile(norms, 90))


def returns_list(model, dataloader, criterion, device, num_batches=100):
    norms = _measure(model, dataloader, criterion, device, num_batches)
    return list(norms), float(np.percentile(norms, 90))


def norm_of_every_parameter(model, dataloader, criterion, device, num_batches=100):
    # p.grad.norm() on every parameter: a frozen or unused one has p.grad None.
    norms = _measure(model, dataloader, criterion, device, num_batches,
                     norm=lambda m: math.sqrt(sum(float(p.grad.norm()) ** 2 for p in m.parameters())))
    return norms, float(np.percentile(norms, 90))


def no_train_mode(model, dataloader, criterion, device, num_batches=100):
    norms = _measure(model, dataloader, criterion, device, num_batches, train=False)  # model.train() forgotten
    return norms, float(np.percentile(norms, 90))


_m = maker(SLUG, "find_clipping_threshold")


MISTAKES = [
    _m("accumulated-gradients", "Gradients were not cleared between batches", accumulates,
       "Your code called loss.backward() for each batch without zeroing the gradients first.",
       "backward() adds to .grad, so each recorded norm is that of the sum of all batches so far (plus "
       "anything left over before the call): the norms grow batch after batch.",
       "The suggested threshold is far too high, so real training steps would hardly ever be clipped.",
       "Call model.zero_grad() before every forward/backward pass."),
    _m("changes-weights", "The model was trained while measuring", changes_weights,
       "Your code stepped an optimizer after each batch.",
       "The weights are different after the call, and every norm after the first is measured on a changed "
       "model.",
       "A diagnostic that trains the model changes the run it is meant to inspect, and its norms describe "
       "a different model.",
       "Only forward, backward and read p.grad: no optimizer, no clipping, no writes to the weights."),
    _m("post-clip-norm", "Norms were recorded after clipping", post_clip,
       "Your code clipped the gradients before recording their norm.",
       "No recorded norm exceeds the clipping threshold, however large the gradients really are.",
       "The point is to see how large the raw gradients get; capped norms suggest a threshold that says "
       "nothing about the data.",
       "Record the norm right after loss.backward(), and do not clip inside the measurement."),
    _m("sum-of-norms", "Per-parameter norms were added up", sum_of_norms,
       "Your code added the L2 norms of the individual gradients instead of combining their squares.",
       "Every recorded norm is larger than the global norm clip_grad_norm_ uses.",
       "The threshold is then compared with a different quantity than the one clipping measures.",
       "total_norm = sqrt(sum over parameters of ||p.grad||^2)."),
    _m("median-threshold", "The median was suggested instead of the 90th percentile", median,
       "Your code suggested np.median(norms) as max_norm.",
       "The norms are right, the suggestion is lower than the 90th percentile.",
       "A median threshold clips about half of all steps, far above the 5-25% aim; training slows down.",
       "suggested = np.percentile(norms, 90)."),
    _m("ignores-num-batches", "Every batch was measured", ignores_num_batches,
       "Your code looped over the whole loader and ignored num_batches.",
       "More norms come back than num_batches when the loader is longer.",
       "On a real data set the diagnosis runs a full epoch instead of a quick look.",
       "Stop after num_batches batches (itertools.islice(dataloader, num_batches), or break when the "
       "index reaches num_batches)."),
    _m("returns-list", "The norms came back as a list", returns_list,
       "Your code returned the norms as a Python list.",
       "The values are right but the type is not a NumPy array.",
       "Callers expect array operations such as norms.mean() or norms > max_norm.",
       "Return np.array(norms)."),
    _m("none-grad-not-skipped", "Parameters without a gradient were not skipped", norm_of_every_parameter,
       "Your code took p.grad.norm() of every parameter without checking that p.grad exists.",
       "A frozen parameter (requires_grad off) or one the forward never uses keeps .grad None after "
       "backward, and the call raises AttributeError.",
       "Models being fine-tuned have frozen layers, and many have parameters some batches do not use: the "
       "diagnostic crashes on exactly the models people tune thresholds for.",
       "Skip them: `for p in model.parameters(): if p.grad is not None: ...`."),
    _m("no-train-mode", "model.train() not called", no_train_mode,
       "Your code measured the gradients in whatever mode the model was in, without calling model.train().",
       "After an evaluation pass the model is in eval mode: dropout is off (and batch norm uses its running "
       "statistics), so the recorded norms are not the ones training sees.",
       "The threshold is meant for training steps; norms measured in eval mode suggest a max_norm for a "
       "different computation (typically smaller, without dropout's noise).",
       "Call model.train() before the loop."),
]

# Scenarios on which every mutant differs from the reference and from each other.
PROBES = [
    scenario(batches=5, spread=(1.0, 3.0, 0.5, 2.0, 1.5), gain=3.0),
    scenario(batches=10, num_batches=4, spread=(1.0, 2.0, 4.0), gain=3.0),
    scenario(batches=3, stale=2.0),
    scenario(sizes=(4, 6, 3), batches=4, gain=2.0, spread=(1.0, 3.0), frozen=(0, 1), unused=True),
    scenario(sizes=(4, 8, 3), batches=4, gain=2.0, spread=(1.0, 2.0), dropout=0.5),
]
