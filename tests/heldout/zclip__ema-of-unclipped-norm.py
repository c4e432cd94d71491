import torch


class ZClip:
    """Keeps the statistics in a dict; feeds the raw norm to the EMA (the bug)."""

    def __init__(self, alpha=0.97, z_thresh=2.5, max_grad_norm=1.0, warmup_steps=25):
        self.cfg = dict(alpha=alpha, z=z_thresh, cap=max_grad_norm, warmup=warmup_steps)
        self.seen = []
        self.stats = None

    def step(self, model):
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        norm = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads))) if grads else 0.0
        cap = float("inf") if self.cfg["cap"] is None else self.cfg["cap"]
        limit = cap
        if self.stats is not None:
            mu, var = self.stats
            sd = var ** 0.5
            if (norm - mu) / (sd + 1e-6) > self.cfg["z"]:
                limit = min(mu + self.cfg["z"] * sd, cap)
        if norm > 0 and limit < float("inf"):
            factor = min(1.0, limit / (norm + 1e-6))
            for g in grads:
                g.mul_(factor)
        if self.stats is None:
            self.seen.append(norm)
            if len(self.seen) == self.cfg["warmup"]:
                mu = sum(self.seen) / len(self.seen)
                self.stats = (mu, sum((v - mu) ** 2 for v in self.seen) / len(self.seen))
        else:
            a = self.cfg["alpha"]
            mu = a * self.stats[0] + (1 - a) * norm
            self.stats = (mu, a * self.stats[1] + (1 - a) * (norm - mu) ** 2)
        return min(norm, limit)
