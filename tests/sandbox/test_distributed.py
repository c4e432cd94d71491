"""clip_grad_norm_distributed in the sandbox: ranks with real gloo groups inside one confined child.

The child gets a private network namespace with only its loopback up; its ranks
(threads) talk over it, and every layer of the sandbox stays on for them.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from gradkata.api import grade
from gradkata.judge import observe
from gradkata.katas import get
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.pool import Limits, Zygote
from gradkata.results import Status
from gradkata.settings import GradingSettings

KATA = get("clip_grad_norm_distributed")
HARNESS = KATA.harness
COLLECTIVE_S = 1.0


def scenario(shards, replicated=(), max_norm=1.0):
    from gradkata.katas.clip_grad_norm_distributed.suite import scenario as make

    return make(shards, replicated, max_norm=max_norm)


@pytest.fixture(scope="module")
def zygote():
    with Zygote(Limits(call_s=10, kata_s=60, collective_s=COLLECTIVE_S), drivers=[HARNESS]) as z:
        yield z


def _child(zygote: Zygote, source: str):
    child = zygote.spawn(source, module="submission", functions=list(KATA.functions), forbid=list(KATA.forbid),
                         harness=HARNESS)
    child.handshake()
    return child


def _solution() -> str:
    return (PROJECT_ROOT / "solutions" / "clip_grad_norm_distributed.py").read_text()


@pytest.mark.parametrize("world", [1, 2, 4])
def test_reference_in_the_sandbox_matches_unsharded_torch(zygote, world):
    s = scenario([[[3.0 + r, -4.0], [1.0 * r]] for r in range(world)], replicated=[[2.0, 0.5]], max_norm=3.0)
    child = _child(zygote, _solution())
    try:
        reply = child.call(HARNESS, s)
    finally:
        child.close()
    assert reply["ok"], reply
    torch_says = observe(KATA, KATA.oracle(), s)
    got = reply["obs"]
    assert len(got["returned"]) == world
    for r in range(world):
        assert np.isclose(float(got["returned"][r]["value"]), float(torch_says["returned"][r]["value"]), rtol=1e-6)
        for g, want in zip(got["grads"][r], torch_says["grads"][r]):
            assert np.allclose(g, want, rtol=1e-5)


SKIPS = _solution().replace(
    "    total = _local(sharded, norm_type)\n",
    "    if not with_grad:\n        return torch.zeros(())\n    total = _local(sharded, norm_type)\n", 1)


def _deadlocks(zygote: Zygote, source: str) -> tuple[list, list, list]:
    child = _child(zygote, source)
    stuck, fine, waited = [], [], []
    try:
        # Several in a row: a deadlocked group's connections must not reach the next call's groups.
        for _ in range(3):
            t0 = time.perf_counter()
            stuck.append(child.call(HARNESS, scenario([[[3.0, 4.0]], [None], [[12.0]], []], max_norm=6.5)))
            waited.append(time.perf_counter() - t0)
            fine.append(child.call(HARNESS, scenario([[[3.0, 4.0]], [[12.0]], [[0.0]], [[0.0]]], max_norm=6.5)))
    finally:
        child.close()
    for reply in stuck:
        assert reply["ok"] and reply["obs"]["deadlock"] == {"waiting": [0, 2], "returned": [1, 3]}, reply
    for reply in fine:
        assert reply["ok"] and [float(x["value"]) for x in reply["obs"]["returned"]] == pytest.approx([13.0] * 4)
    return stuck, fine, waited


def test_a_deadlock_is_reported_before_the_collective_times_out_and_the_child_goes_on(zygote):
    assert SKIPS != _solution()
    _, _, waited = _deadlocks(zygote, SKIPS)
    # Ranks 1 and 3 returned and ranks 0 and 2 wait in the all-reduce: certain at once.
    assert all(w < COLLECTIVE_S for w in waited), waited


ASYNC_SKIPS = SKIPS.replace("group=group)\n", "group=group, async_op=True).wait()\n", 1)


def test_a_deadlock_the_driver_cannot_see_ends_at_the_collective_timeout(zygote):
    # Blocked in work.wait() (the submission's frame, not a collective's): only the timeout tells.
    assert ASYNC_SKIPS != SKIPS
    _, _, waited = _deadlocks(zygote, ASYNC_SKIPS)
    assert all(COLLECTIVE_S <= w < COLLECTIVE_S + 5 for w in waited), waited


def test_an_error_on_one_rank_says_which(zygote):
    child = _child(zygote, _solution().replace("    total = _local(sharded, norm_type)\n",
                                                "    if not with_grad:\n        raise ValueError('no grads')\n"
                                                "    total = _local(sharded, norm_type)\n", 1))
    try:
        reply = child.call(HARNESS, scenario([[[3.0, 4.0]], [None]], max_norm=6.5))
    finally:
        child.close()
    assert not reply["ok"] and reply["error"]["type"] == "ValueError", reply
    assert reply["error"]["message"] == "on rank 1 of 2: no grads" and reply["error"]["where"], reply


def test_deadlocking_submission_loses_points_is_named_and_the_batch_goes_on(tmp_path):
    (tmp_path / "clip_grad_norm_distributed.py").write_text(SKIPS)
    (tmp_path / "clip_by_value.py").write_text((PROJECT_ROOT / "solutions" / "clip_by_value.py").read_text())
    [submission] = grade([tmp_path], ["clip_grad_norm_distributed", "clip_by_value"],
                         GradingSettings(seed=1, examples=5))
    results = {r.slug: r for r in submission.katas}
    dist = results["clip_grad_norm_distributed"]
    assert 0 < dist.score < dist.max_score
    failed = [c for c in dist.checks if c.status is not Status.PASSED]
    assert any("deadlock" in (c.message or "") for c in failed), [c.message for c in failed]
    assert [d.mistake for d in dist.diagnoses][:1] == ["clip_grad_norm_distributed/skips-collective-when-empty"]
    assert results["clip_by_value"].score == results["clip_by_value"].max_score


PROBE = '''
import errno, os, socket
import torch
import torch.distributed as dist

def _try(action):
    try:
        action()
    except OSError as exc:
        return float(exc.errno)
    return 0.0

def _connect_out():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        s.connect(("192.0.2.1", 80))

def _bind_fixed():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 8080))

def clip_grad_norm_distributed(parameters, max_norm, norm_type=2.0, group=None):
    codes = [
        _try(lambda: os._exit(0) if os.fork() == 0 else None),
        _try(lambda: os.execv("/bin/true", ["true"])),
        _try(lambda: socket.socket(socket.AF_UNIX).close()),
        _try(lambda: socket.socket(socket.AF_INET6).close()),
        _try(lambda: open("/etc/passwd").read()),
        _try(_connect_out),
        _try(_bind_fixed),
        float(os.getuid()),
        float(dist.get_rank()),
    ]
    return torch.tensor(codes)
'''


def test_sandbox_layers_hold_on_every_rank(zygote):
    import errno

    child = _child(zygote, PROBE)
    try:
        assert {"rlimits", "netns", "uid", "landlock", "seccomp"} <= set(child.layers), child.layers
        reply = child.call(HARNESS, scenario([[[1.0]], [[2.0]], [[3.0]], [[4.0]]]))
    finally:
        child.close()
    assert reply["ok"], reply
    for rank, returned in enumerate(reply["obs"]["returned"]):
        fork, exec_, unix, inet6, passwd, out, bind, uid, me = np.asarray(returned["value"]).tolist()
        assert fork == exec_ == unix == inet6 == errno.EPERM  # seccomp
        assert passwd == errno.EACCES  # Landlock
        assert out == errno.ENETUNREACH  # the private namespace has only its loopback
        assert bind == errno.EACCES  # Landlock: ephemeral ports only
        assert uid == 65534 and me == rank


MEGATRON_STYLE = '''
import math
import torch
import torch.distributed as dist


def clip_grad_norm_distributed(parameters, max_norm, norm_type=2.0, group=None):
    # Megatron's way: a replicated parameter counts on rank 0 only, before one
    # reduction; float32 accumulation.
    params = list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    counted = [p.grad for p in params
               if p.grad is not None and (not getattr(p, "replicated", False) or dist.get_rank(group) == 0)]
    if math.isinf(norm_type):
        share = max((g.detach().abs().max().float() for g in counted), default=torch.tensor(0.0))
        share = torch.as_tensor(share, dtype=torch.float32).reshape(())
        dist.all_reduce(share, op=dist.ReduceOp.MAX, group=group)
        total = share
    else:
        share = torch.zeros((), dtype=torch.float32)
        for g in counted:
            share += torch.linalg.vector_norm(g.detach().float(), norm_type) ** norm_type
        dist.all_reduce(share, group=group)
        total = share ** (1.0 / norm_type)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.to(g.dtype))
    return total
'''

ALL_GATHER = '''
import math
import torch
import torch.distributed as dist


def clip_grad_norm_distributed(parameters, max_norm, norm_type=2.0, group=None):
    # Every rank gathers every rank's share and combines them itself.
    params = list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    inf = math.isinf(norm_type)

    def share(gs):
        vals = [torch.linalg.vector_norm(g.detach().double(), norm_type) for g in gs]
        if not vals:
            return torch.zeros((), dtype=torch.float64)
        v = torch.stack(vals)
        return v.max() if inf else (v ** norm_type).sum()

    mine = share([p.grad for p in params if p.grad is not None and not getattr(p, "replicated", False)])
    gathered = [torch.zeros((), dtype=torch.float64) for _ in range(dist.get_world_size(group))]
    dist.all_gather(gathered, mine, group=group)
    rep = share([p.grad for p in params if p.grad is not None and getattr(p, "replicated", False)])
    every = torch.stack(gathered)
    total = torch.maximum(every.max(), rep) if inf else (every.sum() + rep) ** (1.0 / norm_type)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.to(g.dtype))
    return total
'''


def test_correct_variants_get_full_marks_and_no_diagnosis(tmp_path):
    folders = []
    for name, code in (("megatron", MEGATRON_STYLE), ("all_gather", ALL_GATHER)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "clip_grad_norm_distributed.py").write_text(code)
        folders.append(folder)
    for submission in grade(folders, ["clip_grad_norm_distributed"], GradingSettings(seed=1, examples=10)):
        [result] = submission.katas
        failed = [c.message for c in result.checks if c.status is not Status.PASSED]
        assert result.score == result.max_score and not result.diagnoses, (submission.submission, failed)
