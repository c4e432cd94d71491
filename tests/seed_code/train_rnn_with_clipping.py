# The article's train_rnn_with_clipping (seed 000), as written there, with the
# article's GradientMonitor (it uses one). The seed calls evaluate() without
# printing it; the evaluate below is the usual one (model.eval(), no_grad, mean loss).
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn


def evaluate(model, loader, criterion, device):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            output, _ = model(x)
            total += criterion(output.view(-1, output.size(-1)), y.view(-1)).item()
    return total / max(len(loader), 1)

class GradientMonitor:
    """Monitor gradient statistics during training."""
    
    def __init__(self):
        self.norms = []
        self.clipped_count = 0
        self.total_count = 0
    
    def log(self, model, max_norm):
        """Log gradient statistics before clipping."""
        total_norm = 0
        for p in model.parameters():
            if p.grad is not None:
                total_norm += p.grad.norm(2).item() ** 2
        total_norm = total_norm ** 0.5
        
        self.norms.append(total_norm)
        self.total_count += 1
        if total_norm > max_norm:
            self.clipped_count += 1
        
        return total_norm
    
    def summary(self):
        """Print summary statistics."""
        norms = np.array(self.norms)
        clip_rate = self.clipped_count / max(self.total_count, 1)
        
        print(f"Gradient Monitoring Summary:")
        print(f"  Total steps: {self.total_count}")
        print(f"  Clipping rate: {clip_rate:.1%}")
        print(f"  Mean norm: {norms.mean():.4f}")
        print(f"  Max norm: {norms.max():.4f}")
        
        if clip_rate > 0.5:
            print("  ⚠️ High clipping rate - consider lower learning rate")
        elif clip_rate < 0.01:
            print("  ℹ️ Low clipping rate - threshold may be too high")
    
    def plot(self):
        """Plot gradient norm history."""
        plt.figure(figsize=(10, 4))
        plt.plot(self.norms, alpha=0.7)
        plt.axhline(y=np.mean(self.norms), color='r', linestyle='--', label='Mean')
        plt.xlabel('Training Step')
        plt.ylabel('Gradient Norm')
        plt.title('Gradient Norm During Training')
        plt.legend()
        plt.show()


def train_rnn_with_clipping(model, train_loader, val_loader, 
                            epochs, lr, max_norm, device):
    """Complete training loop with gradient clipping and monitoring."""
    
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    monitor = GradientMonitor()
    
    for epoch in range(epochs):
        model.train()
        total_loss = 0
        
        for batch_idx, (x, y) in enumerate(train_loader):
            x, y = x.to(device), y.to(device)
            
            optimizer.zero_grad()
            output, _ = model(x)
            loss = criterion(output.view(-1, output.size(-1)), y.view(-1))
            loss.backward()
            
            # Monitor before clipping
            pre_clip_norm = monitor.log(model, max_norm)
            
            # Clip gradients
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            
            optimizer.step()
            total_loss += loss.item()
            
            # Detect anomalies
            if torch.isnan(loss) or torch.isinf(loss):
                print(f"⚠️ NaN/Inf loss at batch {batch_idx}")
                print(f"   Pre-clip gradient norm: {pre_clip_norm:.4f}")
                break
        
        # Validation
        val_loss = evaluate(model, val_loader, criterion, device)
        
        print(f"Epoch {epoch+1}: Train Loss={total_loss/len(train_loader):.4f}, "
              f"Val Loss={val_loss:.4f}")
    
    monitor.summary()
    return model
