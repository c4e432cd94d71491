"""Driver for ``clip_grad_norm_distributed(parameters, max_norm, norm_type=2.0, group=None)``.

The ranks are threads of one process, each with its own real gloo process
group over loopback TCP: the same code path in the confined child (which gets
a private network namespace with only ``lo`` up, see ``LOOPBACK``) and in the
trusted process (reference, mutants). ``torch.distributed``'s default group is
made thread-local, so ``dist.all_reduce(t)`` and ``dist.get_rank()`` inside a
rank's thread mean that rank's group. Every call gets a fresh group (a new
store prefix), so a call whose ranks deadlocked cannot poison the next one.

Scenario: ``{"world_size": W, "max_norm": x, "norm_type": 2.0 | "inf",
"ranks": [{"params": [{"value", "grad", "replicated"}], "container"}] * W}``,
and ``"cast": "bfloat16"`` for a dtype NumPy lacks (the arrays are float32).
A replicated parameter appears on every rank with the same values and grad.

Observation: ``{"returned": [per rank], "grads": [[per parameter] per rank]}``,
or ``{"deadlock": {"waiting": [ranks], "returned": [ranks]}}`` when some ranks
returned while others waited in a collective that could never complete.

A deadlock is seen as soon as it is certain, not when the collective times out:
once a rank has finished (it waits at the end and joins no further collective),
every rank still blocked in a collective of the whole group waits for it forever.
The timeout stays as the fallback for the waits this cannot see (an async
collective's ``work.wait()``, a subgroup).
"""

from __future__ import annotations

from typing import Required, TypedDict, Union, final

import itertools
import math
import sys
import threading
import time

from gradkata.worker.shapes import Array, Value
from gradkata.worker.values import describe, to_numpy
from gradkata.worker.harness import _params


class RankParam(TypedDict, total=False):
    value: Required[Array]
    grad: Array | None
    replicated: bool  # a copy on every rank (count it once)


class Rank(TypedDict, total=False):
    params: Required[list[RankParam]]  # this rank's shard
    container: str  # "list" | "tuple" | "generator" | "single"


class Scenario(TypedDict, total=False):
    world_size: Required[int]
    max_norm: Required[float]
    norm_type: float | str  # 2.0 (default), or "inf"
    ranks: Required[list[Rank]]
    cast: str  # a dtype NumPy lacks ("bfloat16"): the arrays are float32


@final
class Shards(TypedDict):
    returned: list[Value]  # per rank
    grads: list[list[Array | None]]  # per parameter, per rank


class Waiting(TypedDict):
    waiting: list[int]  # the ranks stuck in a collective
    returned: list[int]  # the ranks that returned


class Deadlock(TypedDict):
    deadlock: Waiting


Observation = Union[Shards, Deadlock]


FUNCTION = "clip_grad_norm_distributed"
# The sandbox gives this driver's children a private net namespace with the
# loopback up and lets them open AF_INET sockets (gloo's transport) there.
LOOPBACK = True
COLLECTIVE_S = 2.0  # a collective that waits longer has lost a rank: deadlock
GRACE_S = 5.0  # beyond the collective timeout, for a rank's own work
# How long "every unfinished rank blocked in a collective" must hold before it is a
# deadlock: a finished rank's async collective can still be matched for that long.
SETTLE_S = 0.25
POLL_S = 0.02
# torch.distributed's collectives of the whole group, as the innermost Python frame of
# a rank blocked in one (the C++ wait has no frame of its own).
COLLECTIVES = frozenset({
    "all_reduce", "all_reduce_coalesced", "all_gather", "all_gather_into_tensor", "all_gather_object",
    "all_to_all", "all_to_all_single", "barrier", "broadcast", "broadcast_object_list", "gather",
    "monitored_barrier", "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter"})

DEVICES = 8  # spare gloo devices per child: a device that saw a deadlock is never used again

_calls = itertools.count()
_setup = threading.Lock()
_store = None
_devices: list = []


def _new_device():
    import torch.distributed as dist

    # A numeric address: resolving the host name would read /etc/hosts.
    return dist.ProcessGroupGloo.create_device(hostname="127.0.0.1")


def setup_network() -> None:
    """The gloo devices (each a listening socket on 127.0.0.1) the ranks' groups use.

    Called by the sandbox in the child, in its private namespace, before Landlock
    and seccomp: making a device reads /sys/bus/pci and asks netlink for the
    interfaces, which the confined child may not. Elsewhere they are made on first use.
    One device serves every group until a call deadlocks: the timed-out groups'
    connections linger on it and can meet the next group's, so the next call moves
    on to a fresh device.
    """
    _devices[:] = [_new_device() for _ in range(DEVICES)]


def _retire_device() -> None:
    """After a deadlock: drop the current device (and collect the stuck groups' threads)."""
    import gc

    if _devices:
        _devices.pop(0)
    gc.collect()


def collective_s() -> float:
    """The collective timeout: Limits.collective_s in a confined child, the default elsewhere."""
    from gradkata.worker import sandbox

    return float(sandbox.job_limits().get("collective_s", COLLECTIVE_S))


def _thread_local_world():
    """Make torch.distributed's global state per thread, once; returns the shared store."""
    global _store
    import torch.distributed as dist
    from torch.distributed import distributed_c10d as c10d

    with _setup:
        if _store is None:
            # torch's own helper for running ranks as threads (its threaded-PG
            # tests); here the groups are real gloo ones, with real timeouts.
            from torch.testing._internal.distributed.multi_threaded_pg import ThreadLocalWorld

            if not isinstance(c10d._world, ThreadLocalWorld):
                c10d._world = ThreadLocalWorld()
            _store = dist.HashStore()
        if not _devices:
            try:
                _devices.append(_new_device())
            except RuntimeError as exc:  # confined: no fresh device can be made here
                raise RuntimeError(f"{DEVICES} calls already deadlocked in this child, no more can be run; every "
                                   "rank must join every collective") from exc
    return _store


def _open_group(store, prefix: str, rank: int, world: int, timeout_s: float):
    """A gloo group as init_process_group makes it, registered as this thread's default group."""
    import datetime

    import torch
    import torch.distributed as dist
    from torch.distributed import distributed_c10d as c10d

    scoped = dist.PrefixStore(prefix, store)
    pg = dist.ProcessGroup(scoped, rank, world)
    options = dist.ProcessGroupGloo._Options()
    options._devices = [_devices[0]]
    options._timeout = datetime.timedelta(seconds=timeout_s)
    backend = dist.ProcessGroupGloo(dist.PrefixStore("cpu/", scoped), rank, world, options)
    pg._set_default_backend(dist.ProcessGroup.BackendType.GLOO)
    pg._register_backend(torch.device("cpu"), dist.ProcessGroup.BackendType.GLOO, backend)
    world_state = c10d._world
    world_state.default_pg = pg
    world_state.pg_map[pg] = ("gloo", scoped)
    world_state.pg_names[pg] = prefix
    world_state.pg_group_ranks[pg] = {i: i for i in range(world)}
    world_state.pg_backend_config[pg] = "cpu:gloo"
    return pg


def _close_group() -> None:
    from torch.distributed import distributed_c10d as c10d

    state = c10d._world._get_world()
    state.default_pg = None
    for table in (state.pg_map, state.pg_names, state.pg_group_ranks, state.pg_backend_config):
        table.clear()


def build_rank(scenario: Scenario, rank: int) -> tuple[list, object]:
    """This rank's parameters (replicated ones marked ``p.replicated = True``) and its container."""
    spec = scenario["ranks"][rank]
    params, container = _params.build(spec)
    cast = scenario.get("cast")  # a dtype NumPy lacks (bfloat16): sent as float32
    for p, ps in zip(params, spec["params"]):
        if cast:
            import torch

            p.data = p.data.to(getattr(torch, cast))
            if p.grad is not None:
                p.grad = p.grad.to(getattr(torch, cast))
        if ps.get("replicated"):
            p.replicated = True
    if spec.get("container") == "generator":
        container = (p for p in params)
    return params, container


def norm_type(scenario: Scenario) -> float:
    value = scenario.get("norm_type", 2.0)
    return math.inf if value == "inf" else float(value)


def _is_collective_failure(exc: BaseException) -> bool:
    """A gloo timeout, or a peer that left: what waiting for a rank that never came looks like."""
    if isinstance(exc, _Stuck):
        return True
    text = str(exc)
    return type(exc).__name__ in ("DistBackendError", "DistNetworkError", "DistStoreError") or \
        "Timed out" in text or "Connection closed by peer" in text or "Connection reset" in text


def run(funcs: dict, scenario: Scenario) -> Observation:
    fn = funcs[FUNCTION]
    if getattr(fn, "unsharded", False):
        return _unsharded(fn, scenario)
    world = int(scenario["world_size"])
    store, timeout_s = _thread_local_world(), collective_s()
    prefix = f"call{next(_calls)}/"
    built = [build_rank(scenario, r) for r in range(world)]
    results: list = [None] * world
    groups: list = [None] * world
    # A rank that returned keeps its group open until every rank is done, as a
    # real rank would go on to its next collective instead of hanging up.
    done = threading.Barrier(world)

    def rank_main(rank: int) -> None:
        try:
            groups[rank] = _open_group(store, prefix, rank, world, timeout_s)
        except BaseException as exc:  # noqa: BLE001 -- reported below
            results[rank] = exc
            done.abort()
            return
        try:
            results[rank] = ("ok", fn(built[rank][1], scenario["max_norm"], norm_type(scenario)))
        except BaseException as exc:  # noqa: BLE001 -- the submission may raise anything
            # A failed collective's traceback would keep this rank's group, and so its
            # connections, open: the ranks still waiting on them would wait on.
            results[rank] = _Stuck() if _is_collective_failure(exc) else exc
        try:
            done.wait(timeout=timeout_s + GRACE_S)
        except threading.BrokenBarrierError:
            pass
        finally:
            # Dropping the last reference closes the group's connections, which
            # ends the wait of a rank still stuck in a collective with this one.
            _close_group()
            groups[rank] = None

    threads = [threading.Thread(target=rank_main, args=(r,), name=f"rank{r}", daemon=True) for r in range(world)]
    for t in threads:
        t.start()
    stuck = _join(threads, results, groups, timeout_s)
    if stuck:
        # The finished ranks hang up, so the stuck ones' collectives fail now instead of at their
        # timeout; joining them frees their groups' sockets before the next call opens more.
        done.abort()
        for t in threads:
            t.join(timeout=GRACE_S)
        results[:] = [_Stuck() if r in stuck else x for r, x in enumerate(results)]
    return _observation(results, built)


class _Stuck(Exception):
    """A rank blocked in a collective that no finished rank will ever join."""


def _join(threads: list[threading.Thread], results: list, groups: list, timeout_s: float) -> list[int]:
    """Wait for the ranks; the ranks deadlocked in a collective, as soon as that is certain, else []."""
    limit = 2 * (timeout_s + GRACE_S)
    end = time.monotonic() + limit
    settle = min(SETTLE_S, timeout_s / 4)
    since: float | None = None
    for t in threads:
        while t.is_alive():
            t.join(timeout=POLL_S)  # returns at once when the rank ends: no latency on a normal call
            now = time.monotonic()
            if not t.is_alive():
                break
            if now > end:
                raise TimeoutError(f"a rank did not finish within {limit:.0f} s")
            stuck = _blocked(threads, results, groups)
            if not stuck:
                since = None
            elif since is None:
                since = now
            elif now - since >= settle:
                return stuck
    return []


def _blocked(threads: list[threading.Thread], results: list, groups: list) -> list[int]:
    """The unfinished ranks, when a rank has finished and every unfinished one waits in a
    collective of the whole group (which needs the finished rank); else []."""
    unfinished = [r for r, x in enumerate(results) if x is None]
    if not unfinished or len(unfinished) == len(results):
        return []
    frames = sys._current_frames()
    try:
        for r in unfinished:
            frame = frames.get(threads[r].ident or -1)
            if frame is None or frame.f_code.co_name not in COLLECTIVES \
                    or not frame.f_code.co_filename.endswith("distributed_c10d.py"):
                return []
            group = frame.f_locals.get("group")
            if group is not None and group is not groups[r]:
                return []  # a subgroup, which a finished rank may not belong to
    finally:
        # The frames include this one: a cycle that would keep the stuck ranks' groups, and
        # their connections, open until the next garbage collection.
        del frames
    return unfinished


def _observation(results: list, built: list) -> Observation:
    errors = [(r, x) for r, x in enumerate(results) if isinstance(x, BaseException)]
    waiting = [r for r, x in errors if _is_collective_failure(x)]
    others = [(r, x) for r, x in errors if not _is_collective_failure(x)]
    if others:
        rank, exc = others[0]  # the submission's own error comes first, with its traceback
        if exc.args and isinstance(exc.args[0], str):
            exc.args = (f"on rank {rank} of {len(results)}: {exc.args[0]}",) + exc.args[1:]
        raise exc
    if waiting:
        returned = [r for r, x in enumerate(results) if not isinstance(x, BaseException)]
        results[:] = [None] * len(results)  # the errors' tracebacks hold the stuck groups
        _retire_device()
        return {"deadlock": {"waiting": waiting, "returned": returned}}
    return _observe([x[1] for x in results], [params for params, _ in built])


def _observe(returned: list, params: list[list]) -> Shards:
    return {"returned": [describe(value) for value in returned],
            "grads": [[None if p.grad is None else to_numpy(p.grad) for p in mine] for mine in params]}


def _unsharded(fn, scenario: Scenario) -> Shards:
    """The oracle: one unsharded call on the whole model (every shard, each replicated
    parameter once), its result handed back to each rank's parameters."""
    world = int(scenario["world_size"])
    built = [build_rank(scenario, r) for r in range(world)]
    whole = [p for params, _ in built for p in params if not getattr(p, "replicated", False)]
    first = built[0][0] if built else []
    whole += [p for p in first if getattr(p, "replicated", False)]
    total = fn(whole, scenario["max_norm"], norm_type(scenario))
    for params, _ in built[1:]:
        copies = [p for p in params if getattr(p, "replicated", False)]
        for mine, clipped in zip(copies, [p for p in first if getattr(p, "replicated", False)]):
            if mine.grad is not None:
                mine.grad.copy_(clipped.grad)
    return _observe([total] * world, [params for params, _ in built])
