# The article's train_step_with_clipping (seed 000), as written there.
import torch
import torch.nn as nn


# PyTorch built-in implementation
def train_step_with_clipping(model, optimizer, loss, max_norm=1.0):
    """Training step with gradient norm clipping."""
    optimizer.zero_grad()
    loss.backward()
    
    # Clip gradients by global norm
    total_norm = torch.nn.utils.clip_grad_norm_(
        model.parameters(), 
        max_norm=max_norm
    )
    
    optimizer.step()
    
    return total_norm  # Useful for monitoring
