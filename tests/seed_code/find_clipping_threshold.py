# The article's find_clipping_threshold (seed 000), as written there.
import numpy as np
import torch


def find_clipping_threshold(model, dataloader, criterion, device, 
                            num_batches=100):
    """
    Analyze gradient norms to determine appropriate clipping threshold.
    """
    gradient_norms = []
    
    model.train()
    for i, (x, y) in enumerate(dataloader):
        if i >= num_batches:
            break
            
        x, y = x.to(device), y.to(device)
        
        model.zero_grad()
        output = model(x)
        loss = criterion(output.view(-1, output.size(-1)), y.view(-1))
        loss.backward()
        
        # Compute gradient norm
        total_norm = 0
        for p in model.parameters():
            if p.grad is not None:
                total_norm += p.grad.norm(2).item() ** 2
        total_norm = total_norm ** 0.5
        gradient_norms.append(total_norm)
    
    gradient_norms = np.array(gradient_norms)
    
    print("Gradient Norm Statistics:")
    print(f"  Mean: {gradient_norms.mean():.4f}")
    print(f"  Std:  {gradient_norms.std():.4f}")
    print(f"  Min:  {gradient_norms.min():.4f}")
    print(f"  Max:  {gradient_norms.max():.4f}")
    print(f"  Median: {np.median(gradient_norms):.4f}")
    print(f"  95th percentile: {np.percentile(gradient_norms, 95):.4f}")
    
    # Suggested threshold: median or 90th percentile
    suggested = np.percentile(gradient_norms, 90)
    print(f"\nSuggested max_norm: {suggested:.2f}")
    
    return gradient_norms, suggested
