"""Unusual but correct implementations earn full marks through the real worker.

Each submission folder holds one variant per kata; all folders are graded in
one suite session, on the session's warm zygote (``grade_warm``, tests/conftest.py).
"""

from __future__ import annotations

import textwrap

import pytest

from gradkata.results import Status
from gradkata.settings import GradingSettings

KATAS = ["clip_grad_norm", "clip_grad_value", "clip_by_norm", "clip_by_value", "train_step_with_clipping"]

# submission -> kata -> source. Every body is a different, legitimate way to meet the contract.
VARIANTS: dict[str, dict[str, str]] = {
    "python_floats": {
        # Pure-Python accumulation with .item(), returning a float; the seed's `if coef < 1` guard.
        "clip_grad_norm": """
            import torch

            def clip_grad_norm(parameters, max_norm):
                if isinstance(parameters, torch.Tensor):
                    parameters = [parameters]
                params = [p for p in parameters if p.grad is not None]
                total = 0.0
                for p in params:
                    total += p.grad.detach().double().norm(2).item() ** 2
                total = total ** 0.5
                coef = max_norm / (total + 1e-6)
                if coef < 1:
                    for p in params:
                        p.grad.detach().mul_(coef)
                return total
        """,
        "clip_grad_value": """
            import torch

            def clip_grad_value(parameters, clip_value):
                if isinstance(parameters, torch.Tensor):
                    parameters = [parameters]
                for p in parameters:
                    if p.grad is not None:
                        p.grad.data.clamp_(-clip_value, clip_value)
        """,
        # Explicit NumPy arithmetic; a list instead of a tuple; NumPy scalars and a 0-d array.
        "clip_by_norm": """
            import numpy as np

            def clip_by_norm(g, tau):
                norm = np.sqrt(np.sum(np.square(g, dtype=np.float64)))
                out = g * min(1.0, tau / norm) if norm > 0 else g.copy()
                return [out, np.float64(norm), np.array(min(norm, tau))]
        """,
        "clip_by_value": """
            import numpy as np

            def clip_by_value(g, c):
                return np.minimum(np.maximum(g, -c), c)
        """,
        # Manual clipping without torch's epsilon, grads set to None, a float returned.
        "train_step_with_clipping": """
            def train_step_with_clipping(model, optimizer, loss, max_norm=1.0):
                for p in model.parameters():
                    p.grad = None
                loss.backward()
                grads = [p.grad for p in model.parameters() if p.grad is not None]
                total = sum(float((g * g).sum()) for g in grads) ** 0.5
                if total > max_norm:
                    for g in grads:
                        g.mul_(max_norm / total)
                optimizer.step()
                return total
        """,
    },
    "tensor_tricks": {
        # Flatten everything with torch.cat; multiply unconditionally by a clamped coefficient.
        "clip_grad_norm": """
            import torch

            def clip_grad_norm(parameters, max_norm):
                if isinstance(parameters, torch.Tensor):
                    parameters = [parameters]
                grads = [p.grad for p in parameters if p.grad is not None]
                if not grads:
                    return torch.tensor(0.0)
                flat = torch.cat([g.detach().reshape(-1).double() for g in grads])
                total = torch.sqrt(torch.sum(flat * flat))
                coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
                for g in grads:
                    g.mul_(coef.to(g.dtype))
                return total.to(grads[0].dtype)
        """,
        # New tensors assigned to .grad instead of in-place clamping.
        "clip_grad_value": """
            import torch

            def clip_grad_value(parameters, clip_value):
                if isinstance(parameters, torch.Tensor):
                    parameters = [parameters]
                for p in parameters:
                    if p.grad is not None:
                        c = torch.tensor(float(clip_value), dtype=p.grad.dtype)
                        p.grad = torch.minimum(torch.maximum(p.grad, -c), c)
        """,
        # NumPy in, torch inside, NumPy out; numbers as 0-d tensors.
        "clip_by_norm": """
            import numpy as np
            import torch

            def clip_by_norm(g, tau):
                t = torch.from_numpy(np.array(g, copy=True))
                norm = torch.linalg.vector_norm(t)
                out = t / max(1.0, float(norm) / tau)
                return out.numpy(), norm, torch.linalg.vector_norm(out)
        """,
        "clip_by_value": """
            import numpy as np

            def clip_by_value(g, c):
                out = np.array(g, copy=True)
                out[out > c] = c
                out[out < -c] = -c
                return out
        """,
        "train_step_with_clipping": """
            import torch

            def train_step_with_clipping(model, optimizer, loss, max_norm=1.0):
                model.zero_grad(set_to_none=False)
                loss.backward()
                norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
                optimizer.step()
                return norm.item()
        """,
    },
    "foreach": {
        # The foreach route, as torch does it internally.
        "clip_grad_norm": """
            import torch

            def clip_grad_norm(parameters, max_norm):
                if isinstance(parameters, torch.Tensor):
                    parameters = [parameters]
                grads = [p.grad for p in parameters if p.grad is not None]
                if len(grads) == 0:
                    return torch.tensor(0.0)
                norms = torch._foreach_norm(grads, 2.0)
                total = torch.linalg.vector_norm(torch.stack(norms), 2.0)
                coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
                torch._foreach_mul_(grads, coef)
                return total
        """,
        # Raises on empty input, exactly as torch 2.13 does: accepted.
        "clip_grad_value": """
            import torch

            def clip_grad_value(parameters, clip_value):
                if isinstance(parameters, torch.Tensor):
                    parameters = [parameters]
                grads = [p.grad for p in parameters if p.grad is not None]
                torch._foreach_clamp_min_(grads, -clip_value)
                torch._foreach_clamp_max_(grads, clip_value)
        """,
        "clip_by_norm": """
            import numpy as np

            def clip_by_norm(g, tau):
                norm = np.linalg.norm(g.ravel())
                clipped = g / max(1, norm / tau)
                return clipped, norm, np.linalg.norm(clipped.ravel())
        """,
        "clip_by_value": """
            import numpy as np

            def clip_by_value(g, c):
                return np.where(g > c, c, np.where(g < -c, -c, g)).astype(g.dtype)
        """,
        "train_step_with_clipping": """
            import torch

            def train_step_with_clipping(model, optimizer, loss, max_norm=1.0):
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                params = [p for p in model.parameters() if p.grad is not None]
                total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm([p.grad for p in params])))
                torch._foreach_mul_([p.grad for p in params], torch.clamp(max_norm / (total + 1e-6), max=1.0))
                optimizer.step()
                return total
        """,
    },
}


@pytest.fixture(scope="module")
def results(tmp_path_factory, grade_warm):
    root = tmp_path_factory.mktemp("variants")
    paths = []
    for name, files in VARIANTS.items():
        folder = root / name
        folder.mkdir()
        for slug, source in files.items():
            (folder / f"{slug}.py").write_text(textwrap.dedent(source))
        paths.append(folder)
    graded = grade_warm(paths, KATAS, GradingSettings(seed=314159, examples=15))  # the session's zygote
    return {r.submission.rsplit("/", 1)[-1]: {k.slug: k for k in r.katas} for r in graded}


@pytest.mark.slow
@pytest.mark.parametrize("slug", KATAS)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_unusual_but_correct_gets_full_marks(results, variant, slug):
    result = results[variant][slug]
    failures = [f"{c.name}: {c.message}" for c in result.checks if c.status is not Status.PASSED]
    assert result.status is Status.PASSED, (result.reason, failures)
    lost = sorted(c.name for c in result.checks if c.status is not Status.PASSED)
    assert lost == PARITY_ONLY.get((variant, slug), []), failures
    assert all(c.tier == "parity" for c in result.checks if c.name in lost)
    assert result.score == result.max_score - len(lost) and result.max_score > 0


# Correct for the question as asked; the parity tier names where they part from PyTorch.
PARITY_ONLY = {
    # The seed's `if coef < 1` guard is False for a NaN norm: gradients beside a NaN stay unscaled.
    ("python_floats", "clip_grad_norm"): ["test_non_finite_grads_spread_as_in_torch"],
}


def _by_norm_with_torch_eps(g, tau):
    """The NumPy formula with clip_grad_norm_'s 1e-6 added to the norm: g * min(1, tau / (||g|| + 1e-6))."""
    import numpy as np

    g = np.asarray(g)
    norm = float(np.linalg.norm(g.ravel()))
    clipped = g * min(1.0, tau / (norm + 1e-6))
    return clipped, norm, float(np.linalg.norm(clipped.ravel()))


@pytest.mark.slow
def test_torch_eps_in_clip_by_norm_is_accepted_under_every_seed():
    """Accepted, part by part, next to the notebook's g / max(1, ||g|| / tau): the suite computes both
    (the reference and PyTorch's clip_grad_norm_), so tiny norms, where the 1e-6 matters, cost nothing."""
    from gradkata.katas import get
    from gradkata.runner import check_functions

    for seed in (1, 2, 3, 4, 5):
        checks = check_functions(get("clip_by_norm"), {"clip_by_norm": _by_norm_with_torch_eps},
                                 GradingSettings(seed=seed, examples=30))
        assert [c.name for c in checks if c.status is not Status.PASSED] == [], seed
