# The article's GradientMonitor (seed 000), as written there.
import matplotlib.pyplot as plt
import numpy as np


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
