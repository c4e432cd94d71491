"""Measured performance of a gradient routine: what it makes PyTorch do, as plain counts.

The call runs under a ``TorchDispatchMode`` that sees every aten operator it
dispatches (below autograd, so ``p.grad.mul_(c)`` is one op, and a foreach
kernel is one op whatever it does inside) and counts:

- host syncs: ``aten._local_scalar_dense``, what ``.item()``, ``float(t)``,
  ``if t:`` and ``t < 1`` used as a bool turn into (on a GPU each one waits for
  the device to finish);
- ops: every aten operator, views and ``detach`` included;
- bytes: the bytes of every newly allocated output (a storage that none of the
  op's inputs shares: in-place ops and views allocate nothing), summed over the
  call -- a ``torch.cat`` of the flattened gradients copies them all.

Each call is measured at ``k`` and ``2k`` parameters, after one unmeasured
warm-up call (lazy initialisation is not the submission's cost), so the suite
can tell how the op count grows: a foreach implementation is O(1), a Python
loop over parameters O(k). Only numbers leave this module. The counts are
deterministic; wall time is not, and is measured only on a CUDA device, on a
large model, when the scenario asks for it.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

import numpy as np


def _tensors(tree: Any) -> list:
    import torch
    from torch.utils._pytree import tree_flatten

    return [t for t in tree_flatten(tree)[0] if isinstance(t, torch.Tensor)]


def _counter():
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    sync = torch.ops.aten._local_scalar_dense.default

    class Counter(TorchDispatchMode):
        @classmethod
        def _should_skip_dynamo(cls) -> bool:
            # torch wraps a mode's __torch_dispatch__ in torch._dynamo.disable unless this
            # says no, and the first call then imports torch._dynamo: 1-2 s in every child
            # and in the trusted process. Nothing here is compiled.
            return False

        def __init__(self) -> None:
            super().__init__()
            self.ops = self.syncs = self.bytes = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            self.ops += 1
            if func is sync:
                self.syncs += 1
            inputs = {t.untyped_storage().data_ptr() for t in _tensors((args, kwargs))}
            fresh = {}
            for t in _tensors(out):
                storage = t.untyped_storage()
                if storage.data_ptr() not in inputs:
                    fresh[storage.data_ptr()] = storage.nbytes()
            self.bytes += sum(fresh.values())
            return out

    return Counter()


def make_params(k: int, numel: int, seed: int, dtype: str = "float32", device: str = "cpu",
                scale: float = 1.0) -> list:
    """``k`` parameters of ``numel`` elements with seeded gradients of the given scale."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    params = []
    for _ in range(k):
        p = torch.nn.Parameter(torch.zeros(numel, dtype=getattr(torch, dtype), device=device))
        p.grad = (torch.randn(numel, generator=gen, dtype=torch.float64) * scale).to(p.dtype).to(device)
        params.append(p)
    return params


def _count(call: Callable[[list], Any], params: list) -> dict:
    counter = _counter()
    with counter:
        call(params)
    grad_bytes = sum(p.grad.numel() * p.grad.element_size() for p in params if p.grad is not None)
    return {"syncs": counter.syncs, "ops": counter.ops, "bytes": counter.bytes, "grad_bytes": grad_bytes}


def profile(call: Callable[[list], Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """Counts for ``call(params)`` at ``k`` and ``2k`` parameters (``spec``: k, numel, seed, dtype, scale)."""
    k, numel, seed = int(spec.get("k", 6)), int(spec.get("numel", 256)), int(spec.get("seed", 0))
    dtype, scale = str(spec.get("dtype", "float32")), float(spec.get("scale", 1.0))
    call(make_params(2, numel, seed, dtype, scale=scale))  # warm-up: lazy initialisation is not counted
    out: dict = {"k": k}
    for label, n in (("at_k", k), ("at_2k", 2 * k)):
        out[label] = _count(call, make_params(n, numel, seed + n, dtype, scale=scale))
    out["cuda"] = time_cuda(call, spec["cuda"]) if spec.get("cuda") else None
    return out


def time_cuda(call: Callable[[list], Any], spec: dict) -> dict:
    """Median seconds per call on a large model on the GPU; {"skipped": why} without one."""
    import torch

    try:
        if not torch.cuda.is_available():
            return {"skipped": "no CUDA device"}
        params = make_params(int(spec.get("k", 200)), int(spec.get("numel", 1 << 20)), 0, "float32", "cuda",
                             scale=float(spec.get("scale", 1.0)))
        call(params)
        torch.cuda.synchronize()
        times = []
        for _ in range(int(spec.get("repeats", 5))):
            start = time.perf_counter()
            call(params)
            torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        return {"seconds": float(np.median(times))}
    except Exception as exc:  # a sandbox without the device files, out of memory: informational only
        return {"skipped": f"{type(exc).__name__}: {str(exc)[:200]}"}
