"""The usual mistakes in gradient accumulation with clipping: mutants, feedback, probes."""

from __future__ import annotations

import numpy as np
import torch

from gradkata.mistakes import maker
from gradkata.worker.shapes import model_spec
from gradkata.katas.train_step_accumulate.driver import MicroBatch, Scenario

SLUG = "train_step_accumulate"
# model.zero_grad() and optimizer.zero_grad() are equally right, and only the
# latter shows in the event log: diagnose from weights, norms and return values.
IGNORE_KEYS = ("events", "step_starts")


def _clip(model, max_norm):
    return torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)


def clip_every_micro_batch(model, optimizer, criterion, micro_batches, max_norm=1.0):
    optimizer.zero_grad()
    total = torch.tensor(0.0)
    for x, y in micro_batches:
        (criterion(model(x), y) / len(micro_batches)).backward()
        total = _clip(model, max_norm)  # clips the partial sum, every time
    optimizer.step()
    return total


def sum_not_average(model, optimizer, criterion, micro_batches, max_norm=1.0):
    optimizer.zero_grad()
    for x, y in micro_batches:
        criterion(model(x), y).backward()  # not divided by the number of micro-batches
    total = _clip(model, max_norm)
    optimizer.step()
    return total


def step_every_micro_batch(model, optimizer, criterion, micro_batches, max_norm=1.0):
    total = torch.tensor(0.0)
    for x, y in micro_batches:
        optimizer.zero_grad()
        (criterion(model(x), y) / len(micro_batches)).backward()
        total = _clip(model, max_norm)
        optimizer.step()
    return total


def no_zero_grad(model, optimizer, criterion, micro_batches, max_norm=1.0):
    for x, y in micro_batches:
        (criterion(model(x), y) / len(micro_batches)).backward()
    total = _clip(model, max_norm)
    optimizer.step()
    return total


def post_clip_norm(model, optimizer, criterion, micro_batches, max_norm=1.0):
    optimizer.zero_grad()
    for x, y in micro_batches:
        (criterion(model(x), y) / len(micro_batches)).backward()
    _clip(model, max_norm)
    optimizer.step()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


def norm_of_every_parameter(model, optimizer, criterion, micro_batches, max_norm=1.0):
    optimizer.zero_grad()
    for x, y in micro_batches:
        (criterion(model(x), y) / len(micro_batches)).backward()
    # Clipping by hand, over every parameter: a frozen or unused one has p.grad None.
    total = torch.sqrt(sum(p.grad.detach().pow(2).sum() for p in model.parameters()))
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for p in model.parameters():
        p.grad.detach().mul_(coef)
    optimizer.step()
    return total


_m = maker(SLUG, "train_step_accumulate")


MISTAKES = [
    _m("clip-every-micro-batch", "Clipped after every micro-batch", clip_every_micro_batch,
       "Your code clipped the gradients after each micro-batch's backward instead of once after the last.",
       "Each clip shrinks a partial sum, and later micro-batches add unclipped gradients on top: the gradient "
       "at optimizer.step() is neither the clipped total nor bounded by max_norm, and early micro-batches "
       "count for less than late ones.",
       "The update depends on how the batch was split and on the order of the micro-batches; with many "
       "micro-batches its norm can reach n * max_norm, so the clipping bound you tuned no longer holds.",
       "Accumulate all micro-batches first, then call clip_grad_norm_ once, right before optimizer.step()."),
    _m("sum-not-average", "Micro-batch losses summed, not averaged", sum_not_average,
       "Your code back-propagated each micro-batch loss without dividing it by the number of micro-batches.",
       "The accumulated gradient is n times the gradient of the average loss: the returned norm is n times "
       "too large and, when nothing is clipped, the step is n times too long.",
       "Splitting a batch into more micro-batches silently multiplies the learning rate, and clipping kicks in "
       "far more often than with the full batch.",
       "Divide each micro-batch loss by len(micro_batches) before backward()."),
    _m("step-every-micro-batch", "One optimizer step per micro-batch", step_every_micro_batch,
       "Your code called optimizer.step() (and zero_grad) inside the loop over micro-batches.",
       "The model takes n small steps, each from one micro-batch, instead of one step from the accumulated "
       "gradient.",
       "That is not accumulation: each step sees a fraction of the batch (noisier gradients), optimizer "
       "state such as Adam's moments advances n times, and the effective batch size is the micro-batch.",
       "Zero once before the loop, backward every micro-batch inside it, then clip and step once after it."),
    _m("no-zero-grad", "Gradients never cleared", no_zero_grad,
       "Your code never called optimizer.zero_grad() (or model.zero_grad()).",
       "Gradients from the previous step are still in .grad and get added to this step's, so the norm and "
       "the update are wrong from the second call on (or from the first, if anything is left over).",
       "Accumulation relies on .grad adding up; without clearing it between optimizer steps, every step "
       "re-applies all earlier gradients.",
       "Call optimizer.zero_grad() once at the start of the step, before the first micro-batch."),
    _m("post-clip-norm", "Returned the norm after clipping", post_clip_norm,
       "Your code returned the gradient norm measured after clipping.",
       "The returned value never exceeds max_norm.",
       "The pre-clip norm is the number you log to see gradients explode; capped at max_norm it hides them.",
       "Return the value clip_grad_norm_ returns: the norm before clipping."),
    _m("none-grad-not-skipped", "Parameters without a gradient were not skipped", norm_of_every_parameter,
       "Your code computed the norm (or scaled the gradients) over every parameter with p.grad, without "
       "checking that p.grad exists.",
       "A frozen parameter (requires_grad off) or one the forward never uses keeps .grad None after "
       "backward: the step raises AttributeError/TypeError instead of training.",
       "Fine-tuning freezes layers and many models have parameters unused in some steps: the training loop "
       "crashes on its first step.",
       "Skip them: `if p.grad is not None`, or let torch.nn.utils.clip_grad_norm_(model.parameters(), "
       "max_norm) do the norm and the scaling (it skips None gradients)."),
]


def _probe(rows_per_step, seed, gain, max_norm, optimizer="sgd", stale=0.5, **model) -> Scenario:
    rng = np.random.default_rng(seed)
    steps: list[list[MicroBatch]] = [[{"x": rng.normal(size=(r, 3)), "y": 2.0 * rng.normal(size=(r, 2))} for r in rows]
             for rows in rows_per_step]
    return {"model": model_spec([3, 5, 2], seed, gain, **model),
            "optimizer": {"optimizer": optimizer, "lr": 0.1}, "criterion": "mse", "steps": steps,
            "max_norm": max_norm, "stale": stale}


# Large gradients with a small max_norm (per-micro-batch clipping, stepping,
# post-clip norm), tiny gradients far below it (sum vs average) and stale
# gradients (zero_grad); a frozen layer and an unused parameter (None grads).
PROBES = [
    _probe([[2, 2, 2, 2]], 0, 4.0, 0.5),
    _probe([[3, 3, 3], [2, 2]], 1, 1.0, 1e6),
    _probe([[2, 2], [2, 2]], 2, 1.0, 100.0, stale=5.0),
    _probe([[4, 4]], 3, 3.0, 1.0, optimizer="momentum"),
    _probe([[3, 3], [2, 2]], 8, 3.0, 0.5, optimizer="momentum", frozen=[0, 1], unused=True),
]
