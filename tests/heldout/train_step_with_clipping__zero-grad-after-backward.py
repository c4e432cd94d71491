import torch


def train_step_with_clipping(model, optimizer, loss, max_norm=1.0):
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.zero_grad()
    optimizer.step()
    return norm
