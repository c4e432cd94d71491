"""The resident graders' socket core: only their owner can reach them, and they reach only their owner's.

The attacks are played by a second uid (65534, "nobody"): a process that
squats the private directory first, listens on a socket it hopes we will
use, or connects to ours. Running as another uid needs root; elsewhere these
tests are skipped (the directory checks still run).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from gradkata import UsageError
from gradkata import sockets
from gradkata.sockets import Client, LineServer, bind, private_dir, runtime_dir

OTHER_UID = 65534
as_root = pytest.mark.skipif(os.getuid() != 0, reason="playing a second user needs root")


def _other_python() -> str:
    # The other uid cannot enter root's home, where the test's interpreter may live.
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3", sys.executable):
        if os.path.exists(candidate):
            return candidate
    pytest.skip("no interpreter the second user can run")


def _as_other_user(code: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run([_other_python(), "-I", "-S", "-c", code], user=OTHER_UID, group=OTHER_UID,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def shared_tmp():
    """A world-writable, sticky folder like /tmp, short enough for socket paths, that others can enter."""
    folder = Path(tempfile.mkdtemp(prefix="gk-", dir="/tmp"))
    folder.chmod(0o1777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _echo(request: dict) -> dict:
    return {"echo": request}


def _serving(path: Path, idle_s: float | None = None) -> tuple[LineServer, threading.Thread]:
    server = LineServer(path, _echo, {"digest": "d"}, idle_s)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, thread


# --- the private directory ------------------------------------------------------------------------

def test_private_dir_is_made_0700_and_reused(tmp_path: Path) -> None:
    made = private_dir(tmp_path / "gradkata-x")
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    assert private_dir(made) == made


def test_private_dir_refuses_a_link_and_an_open_mode(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(UsageError, match="not a plain directory"):
        private_dir(tmp_path / "link")
    (tmp_path / "open").mkdir()
    (tmp_path / "open").chmod(0o755)
    with pytest.raises(UsageError, match="mode 755"):
        private_dir(tmp_path / "open")


def test_runtime_dir_prefers_a_private_xdg_runtime_dir(tmp_path: Path, monkeypatch) -> None:
    xdg = tmp_path / "run"
    xdg.mkdir(mode=0o700)
    assert runtime_dir({"XDG_RUNTIME_DIR": str(xdg)}) == xdg / "gradkata"
    xdg.chmod(0o755)  # not a runtime dir by the spec: fall back to the temp folder
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert runtime_dir({"XDG_RUNTIME_DIR": str(xdg)}) == tmp_path / f"gradkata-{os.getuid()}"


@as_root
def test_a_directory_squatted_by_another_user_is_refused(shared_tmp: Path, monkeypatch) -> None:
    squat = shared_tmp / f"gradkata-{os.getuid()}"
    made = _as_other_user(f"import os; os.mkdir({str(squat)!r}); os.chmod({str(squat)!r}, 0o700)")
    assert made.returncode == 0, made.stderr
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    with pytest.raises(UsageError, match=f"belongs to uid {OTHER_UID}"):
        runtime_dir({})


# --- binding ---------------------------------------------------------------------------------------

def test_the_socket_is_0600_from_the_start_and_the_umask_is_restored(tmp_path: Path) -> None:
    before = os.umask(0o022)
    try:
        listener = bind(tmp_path / "s.sock")
        assert os.umask(0o022) == 0o022
    finally:
        os.umask(before)
    with listener:
        assert stat.S_IMODE((tmp_path / "s.sock").stat().st_mode) & 0o077 == 0


def test_a_live_server_is_not_displaced_but_a_stale_socket_is(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    server, thread = _serving(path)
    with pytest.raises(UsageError, match="already listens"):
        bind(path)
    server.stopping.set()
    thread.join(5)
    assert not path.exists()
    stale = bind(path)
    stale.close()  # the file stays, as after a SIGKILL
    bind(path).close()


# --- the protocol ------------------------------------------------------------------------------------

def test_hello_then_one_reply_per_request_then_stop(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    _server, thread = _serving(path)
    with Client(path, timeout_s=10) as client:
        assert client.hello["digest"] == "d" and client.hello["pid"] == os.getpid()
        assert client.ask({"n": 1}) == {"echo": {"n": 1}}
        assert client.ask({"n": 2}) == {"echo": {"n": 2}}
        assert client.ask({"op": "stop"}) == {"stopping": True}
    thread.join(5)
    assert not thread.is_alive() and not path.exists()


def test_an_idle_server_stops_by_itself(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    _server, thread = _serving(path, idle_s=0.3)
    with Client(path, timeout_s=10) as client:
        time.sleep(0.8)  # an open connection is not idleness
        assert client.ask({}) == {"echo": {}}
    thread.join(10)
    assert not thread.is_alive() and not path.exists()


# --- a second user ------------------------------------------------------------------------------------

@as_root
def test_the_server_hangs_up_on_another_user(shared_tmp: Path) -> None:
    path = shared_tmp / "s.sock"
    server, thread = _serving(path)
    try:
        # The file mode alone keeps others out; open it to check the credentials do too.
        path.chmod(0o666)
        probe = _as_other_user(
            "import socket\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            f"s.connect({str(path)!r})\n"
            "s.settimeout(10)\n"
            "try:\n"
            "    s.sendall(b'{}\\n')\n"
            "    print(repr(s.recv(1000)))\n"
            "except ConnectionError:\n"
            "    print(repr(b''))\n")
        assert probe.returncode == 0, probe.stderr
        assert probe.stdout.strip() == "b''"  # no hello, no reply: hung up
        with Client(path, timeout_s=10) as mine:  # and it still serves its owner
            assert mine.ask({"ok": True}) == {"echo": {"ok": True}}
    finally:
        server.stopping.set()
        thread.join(5)


@as_root
def test_the_client_refuses_a_server_run_by_another_user(shared_tmp: Path) -> None:
    path = shared_tmp / "trap.sock"
    squatter = subprocess.Popen(
        [_other_python(), "-I", "-S", "-c",
         "import os, socket, sys\n"
         "s = socket.socket(socket.AF_UNIX)\n"
         f"s.bind({str(path)!r}); os.chmod({str(path)!r}, 0o777); s.listen()\n"
         "print('ready', flush=True)\n"
         "c, _ = s.accept()\n"
         "try:\n"
         "    c.sendall(b'{\"digest\": \"forged\"}\\n')\n"
         "    got = c.recv(1000)\n"
         "except ConnectionError:\n"
         "    got = b''\n"
         "print('got', repr(got), flush=True)\n"],
        user=OTHER_UID, group=OTHER_UID, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert squatter.stdout is not None and squatter.stdout.readline().strip() == "ready"
        with pytest.raises(UsageError, match=f"socket {path} belongs to uid {OTHER_UID}"):
            Client(path, timeout_s=10)
        out, _ = squatter.communicate(timeout=10)
        assert "got b''" in out  # nothing was sent to it
    finally:
        if squatter.poll() is None:
            squatter.kill()
            squatter.wait()
        for stream in (squatter.stdout, squatter.stderr):
            if stream is not None:
                stream.close()


def test_peer_uid_is_ours_on_a_socketpair() -> None:
    import socket

    a, b = socket.socketpair()
    with a, b:
        assert sockets.peer_uid(a) == os.getuid()
