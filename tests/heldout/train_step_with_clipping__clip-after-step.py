import torch


def train_step_with_clipping(model, optimizer, loss, max_norm=1.0):
    model.zero_grad()
    loss.backward()
    optimizer.step()
    params = [p for p in model.parameters() if p.grad is not None]
    return torch.nn.utils.clip_grad_norm_(params, max_norm=max_norm)
