"""The sandbox's layers, its bad-input handling and the trusted side's checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gradkata._errors import SandboxUnavailable, WorkerFault
from gradkata.api import grade
from gradkata.cli import main
from gradkata.katas._kata import PROJECT_ROOT
from gradkata.pool import Limits, Zygote, reply_problem
from gradkata.results import Status
from gradkata.settings import GradingSettings

PROBE = """
import os, socket
def f(what):
    try:
        if what == "fork":
            pid = os.fork()
            if pid == 0:
                os._exit(0)
        elif what == "socket":
            socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
        elif what == "exec":
            os.execv("/bin/true", ["true"])
        elif what == "read-project":
            open(%r).read()
        elif what == "uid":
            return os.getuid()
        elif what == "pid":
            return os.getpid()
        elif what == "thread":
            import threading
            t = threading.Thread(target=lambda: None)
            t.start()
            t.join()
    except OSError as exc:
        return type(exc).__name__
    return "allowed"
"""


@pytest.fixture(scope="module")
def zygote():
    with Zygote(Limits(call_s=5, kata_s=30)) as z:
        yield z


def _ask(zygote: Zygote, what: str):
    child = zygote.spawn(PROBE % str(PROJECT_ROOT / "solutions" / "clip_by_value.py"), module="probe",
                         functions=["f"])
    try:
        child.handshake()
        reply = child.call("_sandbox_probe", {"what": what})
    finally:
        child.close()
    return reply


def test_every_layer_is_active_here(zygote: Zygote) -> None:
    # The machines gradkata runs on (root in a VM, Linux >= 6.12) offer all five.
    assert zygote.layers() == ["rlimits", "netns", "pidns", "scratch", "uid", "landlock", "seccomp", "guard"], \
        zygote.missing()


def test_missing_layer_is_reported_and_refused() -> None:
    with Zygote(Limits(disable=("seccomp",))) as z:
        assert "seccomp" in z.missing() and any("seccomp" in n for n in z.notes())
        with pytest.raises(SandboxUnavailable):
            z.require_full()


def test_require_sandbox_cli_exits_1_in_one_line(monkeypatch, capsys) -> None:
    monkeypatch.setenv("GRADKATA_SANDBOX_OFF", "landlock")
    code = main(["grade", str(PROJECT_ROOT / "solutions"), "--kata", "clip_by_value", "--require-sandbox"])
    err = capsys.readouterr().err
    assert code == 1 and "SandboxUnavailable" in err and len(err.strip().splitlines()) == 1


def test_doctor_lists_every_layer(capsys) -> None:
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for layer in ("rlimits", "netns", "uid", "landlock", "seccomp"):
        assert layer in out


def test_reply_schema() -> None:
    assert reply_problem({"ok": True, "obs": {}}) is None
    assert reply_problem({"ok": False, "error": {"type": "E", "message": "m", "where": []}}) is None
    assert reply_problem({"ok": True}) is not None
    assert reply_problem({"ok": True, "obs": {}, "extra": 1}) is not None
    assert reply_problem({"ok": False, "error": "text"}) is not None
    assert reply_problem({"ok": True, "obs": {}, "delegated": [1]}) is not None
    assert reply_problem([1]) is not None


def test_dead_zygote_is_restarted_for_the_next_child(zygote: Zygote) -> None:
    zygote.proc.kill()
    zygote.proc.wait()
    child = zygote.spawn("def f():\n    return 1\n", module="again", functions=["f"])
    try:
        assert child.handshake()["stage"] == "ready"
    finally:
        child.close()
    assert zygote.restarts >= 1


BAD_INPUTS = {
    "syntax_error": (b"def clip_by_value(g, c)\n    return g\n", "syntax error"),
    "empty": (b"", "empty"),
    "binary": (bytes(range(256)) * 4, "binary"),
    "not_utf8": (b"# caf\xe9\ndef clip_by_value(g, c):\n    return g\n", "UTF-8"),
    "huge": (b"x = 1\n" * (20 * 1024 * 1024 // 6), "limit"),
    "wrong_signature": (b"def clip_by_value(g):\n    return g\n", "TypeError"),
    "wrong_return_type": (b"def clip_by_value(g, c):\n    return 'clipped'\n", ""),
    "missing_function": (b"def clip(g, c):\n    return g\n", "not defined"),
    "import_error": (b"import no_such_module_here\n", "ModuleNotFoundError"),
    "nan_result": (b"import numpy as np\ndef clip_by_value(g, c):\n    return np.full_like(g, np.nan)\n", ""),
    "not_a_function": (b"clip_by_value = 3\n", "not a function"),
}


@pytest.mark.slow
def test_bad_inputs_zero_their_kata_only(tmp_path: Path) -> None:
    paths = []
    for name, (data, _said) in BAD_INPUTS.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "clip_by_value.py").write_bytes(data)
        shutil.copy(PROJECT_ROOT / "solutions" / "clip_by_norm.py", folder / "clip_by_norm.py")
        paths.append(folder)
    results = grade(paths, ["clip_by_value", "clip_by_norm"], GradingSettings(seed=1, examples=5),
                    limits=Limits(call_s=3, kata_s=15))
    for result in results:
        name = Path(result.submission).name
        bad, good = result.katas
        said = bad.reason + " ".join(c.message for c in bad.checks)
        assert bad.status is not Status.PASSED, name
        assert bad.score == 0.0, name
        assert said.strip() and BAD_INPUTS[name][1] in said, (name, said[:300])
        assert good.score == good.max_score > 0, (name, good.reason)


def test_worker_fault_names_its_kind() -> None:
    fault = WorkerFault("timeout", "no answer")
    assert fault.kind == "timeout" and "no answer" in str(fault)


# Reading the project is refused either by Landlock (PermissionError) or, from a clone under a
# private (0700) parent such as a `mktemp -d` folder, already by the unprivileged uid's failed
# path walk (FileNotFoundError from the zygote's covering tmpfs): both mean "confined".
@pytest.mark.parametrize("what, expected", [
    ("fork", {"PermissionError"}), ("socket", {"PermissionError"}), ("exec", {"PermissionError"}),
    ("read-project", {"PermissionError", "FileNotFoundError"}), ("uid", {65534}), ("thread", {"allowed"}),
    ("pid", {1}),  # its own pid namespace: no other process has a pid it could name
])
def test_child_is_confined(zygote: Zygote, what: str, expected: set) -> None:
    reply = _ask(zygote, what)
    assert reply["ok"], reply
    assert reply["obs"]["result"] in expected


READER = """
def f(what):
    try:
        return open(what).read()
    except OSError as exc:
        return type(exc).__name__
"""


def _read_in_child(zygote: Zygote, path: Path) -> object:
    child = zygote.spawn(READER, module="reader", functions=["f"])
    try:
        child.handshake()
        reply = child.call("_sandbox_probe", {"what": str(path)})
    finally:
        child.close()
    assert reply["ok"], reply
    return reply["obs"]["result"]


def test_an_installed_grader_is_hidden_from_children() -> None:
    # Installed from a wheel, gradkata (references, suites, mutants) sits in site-packages, a tree
    # every child may read for torch's sake. A stand-in package there: hidden when it is the
    # trusted one, readable otherwise (the control shows the tree itself is readable).
    import site as site_module
    import tempfile

    site = Path(tempfile.mkdtemp(prefix="gradkata-test-installed-", dir=site_module.getsitepackages()[0]))
    try:
        for name in ("trusted", "other"):
            (site / name).mkdir()
            (site / name / "reference.py").write_text("SECRET = 42\n")
        site.chmod(0o755)
        for name in ("trusted", "other"):
            (site / name).chmod(0o755)
            (site / name / "reference.py").chmod(0o644)
        with Zygote(Limits(call_s=5, kata_s=30), trusted=site / "trusted") as z:
            assert _read_in_child(z, site / "trusted" / "reference.py") == "PermissionError"
            assert _read_in_child(z, site / "other" / "reference.py") == "SECRET = 42\n"
    finally:
        shutil.rmtree(site, ignore_errors=True)
