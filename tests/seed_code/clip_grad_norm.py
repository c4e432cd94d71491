# The interview question's "Reference implementation" (seeds: "Implement
# Gradient Clipping"), as the seed writes it.
import torch


def clip_grad_norm(parameters, max_norm):
    """
    Clip gradients by global norm (like torch.nn.utils.clip_grad_norm_).
    """
    parameters = list(parameters)

    # Filter out parameters without gradients
    parameters = [p for p in parameters if p.grad is not None]

    if len(parameters) == 0:
        return torch.tensor(0.)

    # Compute global norm
    # total_norm = sqrt(sum(||grad_i||^2 for all params i))
    device = parameters[0].grad.device
    total_norm = torch.norm(
        torch.stack([
            torch.norm(p.grad.detach(), 2) for p in parameters
        ]), 2
    )

    # Compute clipping coefficient
    clip_coef = max_norm / (total_norm + 1e-6)

    # If total_norm > max_norm, scale all gradients
    if clip_coef < 1:
        for p in parameters:
            p.grad.detach().mul_(clip_coef)

    return total_norm
