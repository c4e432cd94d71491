"""Find a clipping threshold.

Implement find_clipping_threshold(model, dataloader, criterion, device,
num_batches=100): record the global gradient norm of each of up to num_batches
batches without training, and suggest the 90th percentile as max_norm.

Run `gradkata check find_clipping_threshold` to try the visible examples,
`gradkata grade` for the full hidden suite.
"""

import numpy as np
import torch


def find_clipping_threshold(model, dataloader, criterion, device, num_batches=100):
    """Measure the gradient norm of a few batches and suggest a max_norm.

    Before you clip, look: run up to ``num_batches`` batches through the model,
    back-propagate each one's loss on its own, and record the global gradient
    norm (the one clip_grad_norm_ would compare with max_norm):

        total_norm = sqrt(sum over parameters p of ||p.grad||^2)

    This is a measurement, not training:
      * clear the gradients before every batch, or each norm includes the
        previous batches' gradients (and whatever was left in .grad before);
      * never update the weights (no optimizer, no clipping);
      * measure in training mode (``model.train()``: the model may arrive in
        eval mode, and dropout changes the gradients), and skip parameters
        whose ``.grad`` is None (frozen, or unused by the forward).

    Suggest the 90th percentile of the recorded norms as max_norm
    (``np.percentile(norms, 90)``): about one step in ten would be clipped.

    Args:
        model: a torch.nn.Module returning class scores of shape (batch, classes).
        dataloader: an iterable of (x, y) batches; y holds class indices.
        criterion: the loss, e.g. torch.nn.CrossEntropyLoss(); call it as
            ``criterion(output.view(-1, output.size(-1)), y.view(-1))``.
        device: where to move each batch (``x.to(device)``).
        num_batches: the most batches to look at; fewer if the loader runs out.

    Returns:
        (norms, suggested): norms, a 1-D NumPy array with one norm per batch in
        the order seen; suggested, their 90th percentile (a float).

    Example:
        norms 1, 2, ..., 10 suggest np.percentile(norms, 90) = 9.1.
    """
    raise NotImplementedError("find_clipping_threshold is not implemented yet")
