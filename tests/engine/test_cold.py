"""A cold `gradkata grade`: what the trusted process imports, and a fixed seed's examples kept on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gradkata.batch.replay import Replay, ReplayStore, _decode, _encode
from gradkata.katas._kata import PROJECT_ROOT

REFERENCE = (PROJECT_ROOT / "solutions" / "clip_grad_norm.py").read_text()
BUGGY = REFERENCE.replace("torch.clamp(max_norm / (total + EPS), max=1.0)", "max_norm / (total + EPS)")


def _fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=PROJECT_ROOT).stdout


def test_api_imports_neither_pytest_nor_hypothesis_nor_torch():
    # `grade` starts the zygote (which imports torch on the other core) before importing these.
    out = _fresh("import sys, gradkata.api, gradkata.cli\n"
                 "print(sorted(m for m in ('pytest', 'hypothesis', 'torch') if m in sys.modules))")
    assert out.strip() == "[]"


def test_the_performance_counter_does_not_import_dynamo():
    # torch wraps a dispatch mode in torch._dynamo.disable unless told not to: 1-2 s per process.
    out = _fresh("import sys, torch\n"
                 "from gradkata.worker.harness import _perf\n"
                 "counter, t = _perf._counter(), torch.ones(3)\n"
                 "with counter:\n    t.mul_(2)\n"
                 "print(counter.ops, 'torch._dynamo' in sys.modules)")
    assert out.split() == ["1", "False"]


@pytest.mark.parametrize("value", [
    {"x": 1.5, "n": 3, "flag": True, "none": None, "s": "é"},
    {"t": (1, [2.0, (3,)]), "d": {"a": -0.0, "b": float("inf")}},
    {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1, 2], dtype=">i8"),
     "c": np.float64(2.5), "d": np.array(3.0), "e": np.bool_(True), "f": np.zeros((0, 4), dtype=np.float16)},
])
def test_recorded_values_come_back_exactly(value):
    back = _decode(json.loads(json.dumps(_encode(value))))
    assert repr(back) == repr(value)
    for k, v in value.items():
        assert type(back[k]) is type(v)
        if isinstance(v, (np.ndarray, np.generic)):
            assert back[k].dtype == v.dtype and np.asarray(back[k]).tobytes() == np.asarray(v).tobytes()


def test_only_plain_numbers_are_kept():
    with pytest.raises(TypeError):
        _encode({"o": np.array([object()], dtype=object)})
    with pytest.raises(ValueError):
        _decode({"nd": ["|O", [1], "", False]})


def _grade(zygote, path: Path, replay: Replay | None):
    from gradkata.api import grade_submission
    from gradkata.katas import get
    from gradkata.settings import GradingSettings

    result = grade_submission(zygote, path, [get("clip_grad_norm")], GradingSettings(seed=9, examples=4),
                              plugins=[replay] if replay else [])
    return [(k.slug, k.score, k.status, [(c.name, c.status, c.score, c.message) for c in k.checks])
            for k in result.katas]


def test_a_fresh_process_replays_from_disk_exactly_like_hypothesis(tmp_path, shared_zygote):
    (tmp_path / "good.py").write_text(REFERENCE)
    (tmp_path / "bad.py").write_text(BUGGY)
    cache = tmp_path / "cache"
    zygote = shared_zygote  # only grades through it (tests/conftest.py)
    fresh = {n: _grade(zygote, tmp_path / n, None) for n in ("bad.py", "good.py")}
    first = Replay(store=ReplayStore(cache))
    assert _grade(zygote, tmp_path / "good.py", first) == fresh["good.py"]
    assert first.store is not None and first.store.saved >= 1
    # A new Replay stands for a new process: nothing in memory, the files on disk.
    for name in ("bad.py", "good.py"):
        later = Replay(store=ReplayStore(cache))
        assert _grade(zygote, tmp_path / name, later) == fresh[name]
        assert later.store is not None and later.store.loaded >= 1 and later.replayed >= 1 and later.recorded == 0


def _stored(tmp_path: Path) -> tuple[ReplayStore, list, Path]:
    store = ReplayStore(tmp_path / "cache")
    key = ["k", "1"]
    store.save(key, [{"x": np.ones(2)}])
    [path] = (tmp_path / "cache" / "replay").glob("*.json")
    assert store.load(key) is not None
    return store, key, path


def test_a_file_others_could_write_is_not_trusted(tmp_path):
    store, key, path = _stored(tmp_path)
    os.chmod(path, 0o664)
    assert store.load(key) is None


def test_a_symlink_is_not_followed(tmp_path):
    store, key, path = _stored(tmp_path)
    target = tmp_path / "elsewhere.json"
    path.rename(target)
    path.symlink_to(target)
    assert store.load(key) is None


def test_a_file_holding_another_key_is_not_used(tmp_path):
    store, key, path = _stored(tmp_path)
    data = json.loads(path.read_text())
    data["key"] = json.dumps(["other"])
    path.write_text(json.dumps(data))
    assert store.load(key) is None


def test_an_unwritable_cache_is_no_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = ReplayStore(blocker)  # a file where the folder would be
    store.save(["k"], [{"x": 1}])
    assert store.saved == 0 and store.load(["k"]) is None
    assert ReplayStore(None).load(["k"]) is None


def test_the_cache_can_be_turned_off(monkeypatch, tmp_path):
    from gradkata.cache import cache_root

    monkeypatch.setenv("GRADKATA_CACHE", "off")
    assert cache_root() is None
    monkeypatch.delenv("GRADKATA_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "gradkata"


def test_a_batch_fork_server_collects_its_katas_and_builds_an_optimizer_only_when_one_is_used():
    code = ("import sys, os\nimport gradkata.batch.preload as p\n"
            "print('torch._dynamo' in sys.modules, sorted(p.runner._CHECKS))")
    env = {**os.environ, "GRADKATA_PRELOAD_KATAS": "clip_grad_norm,clip_grad_value"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "False ['clip_grad_norm', 'clip_grad_value']"
    from gradkata.batch.workers import uses_optimizer

    assert uses_optimizer(["train_step_with_clipping"]) and not uses_optimizer(["clip_grad_norm", "clip_by_value"])


def test_a_grading_command_collects_no_garbage_until_its_suites_are_loaded(tmp_path):
    # `gradkata check` as the program: collection deferred while torch and the suites load,
    # then resumed with the loaded heap frozen out of it (grader/_startup.py).
    code = ("import gc, sys\nimport gradkata.cli as cli\nfull = []\n"
            "gc.callbacks.append(lambda phase, info: full.append(1) if phase == 'start' and info['generation'] == 2 "
            "else None)\n"
            "def done(code):\n"
            "    print(len(full), gc.isenabled(), gc.get_freeze_count() > 100000, 'torch' in sys.modules, flush=True)\n"
            "cli._quick_exit = done\n"
            "sys.argv = ['gradkata', 'check', 'clip_grad_value', '--no-server']\ncli.main()\n")
    env = {**os.environ, "GRADKATA_CACHE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                         cwd=PROJECT_ROOT).stdout
    assert out.strip().splitlines()[-1] == "0 True True True"


def test_a_library_caller_keeps_its_garbage_collection():
    import gc

    from gradkata import _startup

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    _startup.settle()  # without defer(): nothing to resume, nothing frozen
    assert gc.isenabled() and gc.get_freeze_count() == frozen
