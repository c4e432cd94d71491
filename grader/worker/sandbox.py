"""Confinement applied in each child before the submission is imported.

``probe()`` reports which layers this machine offers; ``confine(job)`` applies
the ones the job asks for and returns the names of those that took effect.
Tripwires on the built-in clippers make delegation visible to the grader.
"""

from __future__ import annotations

import resource

MiB = 1024 * 1024


def probe() -> dict:
    return {"rlimits": True}


def _rlimits(limits: dict) -> None:
    def cap(which: int, value: int) -> None:
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))

    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_CPU, int(limits.get("cpu_s", 60)))
    cap(resource.RLIMIT_FSIZE, int(limits.get("fsize_mib", 1) * MiB))
    cap(resource.RLIMIT_NOFILE, int(limits.get("nofile", 64)))
    if limits.get("as_mib"):
        cap(resource.RLIMIT_AS, int(limits["as_mib"] * MiB))


def confine(job: dict) -> list[str]:
    import signal

    # A write past RLIMIT_FSIZE should fail with EFBIG, not kill the child.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _rlimits(job.get("limits", {}))
    return ["rlimits"]


# --- Tripwires -------------------------------------------------------------

_hits: list[str] = []


class DelegationError(RuntimeError):
    pass


def _tripwire(name: str):
    def tripped(*args, **kwargs):
        _hits.append(name)
        raise DelegationError(
            f"this kata asks you to implement the clipping yourself; calling torch.nn.utils.{name} "
            "gives no credit here"
        )

    tripped.__name__ = name
    return tripped


def install_tripwires(names: list[str]) -> None:
    """Replace the built-ins wherever a submission could reach them."""
    if not names:
        return
    import torch.nn.utils as utils
    import torch.nn.utils.clip_grad as clip_grad

    for name in names:
        wire = _tripwire(name)
        for module in (utils, clip_grad):
            if hasattr(module, name):
                setattr(module, name, wire)
            private = "_" + name
            if hasattr(module, private):
                setattr(module, private, wire)


def tripwire_reset() -> None:
    _hits.clear()


def tripwire_hits() -> list[str]:
    return sorted(set(_hits))
