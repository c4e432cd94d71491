# The article's AdaptiveGradientClipper (seed 000), as written there.
import numpy as np
import torch


class AdaptiveGradientClipper:
    """Adaptive clipping based on gradient statistics."""
    
    def __init__(self, percentile=90, warmup_steps=100):
        self.percentile = percentile
        self.warmup_steps = warmup_steps
        self.gradient_history = []
        self.step = 0
    
    def clip(self, model):
        # Compute current gradient norm
        total_norm = 0
        for p in model.parameters():
            if p.grad is not None:
                total_norm += p.grad.data.norm(2).item() ** 2
        total_norm = total_norm ** 0.5
        
        self.gradient_history.append(total_norm)
        self.step += 1
        
        # During warmup, use fixed threshold
        if self.step < self.warmup_steps:
            max_norm = 1.0
        else:
            # Use percentile of historical gradients
            max_norm = np.percentile(self.gradient_history, self.percentile)
        
        # Clip
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        
        return total_norm, max_norm
