"""The Gradescope bundle's setup.sh on the images Gradescope offers, with a fake apt-get and python3.

No Gradescope image runs here, so the script runs against stand-ins on PATH that
behave like Ubuntu 22.04 (python3 is 3.10; python3.11 in the archive or only in the
deadsnakes PPA) and 24.04 (python3 is 3.12), and log what they were asked to do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from gradkata.gradescope.bundle import BundleConfig, build_bundle

# A python stand-in: `-c` answers the version check from its own version, `-m venv DIR`
# makes a venv whose pip only logs.
FAKE_PYTHON = """#!/bin/bash
echo "$(basename "$0") $*" >> "$LOG"
if [ "$1" = "-c" ]; then [ "{minor}" -ge 11 ]; exit $?; fi
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin"
    printf '#!/bin/bash\\necho "venv-pip (made by %s) $*" >> "$LOG"\\n' "$(basename "$0")" > "$3/bin/pip"
    chmod +x "$3/bin/pip"
fi
"""
# apt-get: installing python3.11 puts a 3.11 stand-in on PATH, if the archive has it
# (the marker file says so; add-apt-repository for deadsnakes creates the marker).
FAKE_APT = """#!/bin/bash
echo "apt-get $*" >> "$LOG"
if [ "$1" = "install" ] && [[ " $* " == *" python3.11 "* ]]; then
    if [ ! -e "$FAKEBIN/.has-python3.11" ]; then echo "E: Unable to locate package python3.11" >&2; exit 100; fi
    sed 's/{{minor}}/11/' "$FAKEBIN/.python-template" > "$FAKEBIN/python3.11"
    chmod +x "$FAKEBIN/python3.11"
fi
"""
FAKE_PPA = """#!/bin/bash
echo "add-apt-repository $*" >> "$LOG"
[ "$2" = "ppa:deadsnakes/ppa" ] && touch "$FAKEBIN/.has-python3.11"
"""


def _stub(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def _run_setup(tmp_path: Path, python3_minor: int, archive_has_311: bool,
               ppa_works: bool = True) -> tuple[int, list[str], str]:
    bundle = tmp_path / "autograder.zip"
    build_bundle(bundle, BundleConfig(katas=["clip_grad_norm"]))
    source = tmp_path / "source"
    with zipfile.ZipFile(bundle) as zf:
        zf.extract("setup.sh", source)
    fakebin = tmp_path / "bin"
    fakebin.mkdir()
    # Only the stand-ins and the few tools the scripts use: no real python3 can be found.
    for tool in ("bash", "dirname", "basename", "mkdir", "chmod", "touch", "sed", "cat"):
        found = shutil.which(tool)
        assert found, tool
        (fakebin / tool).symlink_to(found)
    (fakebin / ".python-template").write_text(FAKE_PYTHON)
    _stub(fakebin / "python3", FAKE_PYTHON.replace("{minor}", str(python3_minor)))
    _stub(fakebin / "apt-get", FAKE_APT.replace("{{minor}}", "{minor}"))
    _stub(fakebin / "add-apt-repository", FAKE_PPA if ppa_works else FAKE_PPA.replace("touch", "true"))
    if archive_has_311:
        (fakebin / ".has-python3.11").touch()
    log = tmp_path / "log"
    log.touch()
    env = {"PATH": str(fakebin), "LOG": str(log), "FAKEBIN": str(fakebin), "GRADKATA_VENV": str(tmp_path / "venv")}
    done = subprocess.run([str(fakebin / "bash"), str(source / "setup.sh")], env=env, capture_output=True,
                          text=True, timeout=60)
    return done.returncode, log.read_text().splitlines(), done.stderr


def test_ubuntu_24_04_uses_its_python3(tmp_path: Path) -> None:
    rc, log, err = _run_setup(tmp_path, python3_minor=12, archive_has_311=False)
    assert rc == 0, err
    assert f"python3 -m venv {tmp_path / 'venv'}" in log
    assert not any("python3.11" in line or "deadsnakes" in line for line in log), log
    pips = [line for line in log if line.startswith("venv-pip")]
    assert len(pips) == 2 and all("made by python3)" in line for line in pips)
    assert "torch==2.13.0" in pips[0] and pips[1].endswith("install -q --disable-pip-version-check .")


def test_ubuntu_22_04_installs_python3_11_from_its_archive(tmp_path: Path) -> None:
    rc, log, err = _run_setup(tmp_path, python3_minor=10, archive_has_311=True)
    assert rc == 0, err
    assert "apt-get install -y -q python3.11 python3.11-venv" in log
    assert not any("deadsnakes" in line for line in log)
    assert f"python3.11 -m venv {tmp_path / 'venv'}" in log
    assert not any(line.startswith("python3 -m venv") for line in log)
    assert all("made by python3.11)" in line for line in log if line.startswith("venv-pip"))
    assert "older than 3.11" in err


def test_ubuntu_22_04_falls_back_to_deadsnakes(tmp_path: Path) -> None:
    rc, log, err = _run_setup(tmp_path, python3_minor=10, archive_has_311=False)
    assert rc == 0, err
    ppa = log.index("add-apt-repository -y ppa:deadsnakes/ppa")
    assert log.index("apt-get install -y -q software-properties-common") < ppa
    assert log[ppa + 1] == "apt-get update -q" and log[ppa + 2] == "apt-get install -y -q python3.11 python3.11-venv"
    assert f"python3.11 -m venv {tmp_path / 'venv'}" in log
    assert sum(line.startswith("venv-pip (made by python3.11)") for line in log) == 2


def test_setup_stops_with_a_reason_when_no_python_3_11_comes(tmp_path: Path) -> None:
    # The PPA is added but python3.11 still cannot be installed (a broken mirror, no network).
    rc, log, err = _run_setup(tmp_path, python3_minor=10, archive_has_311=False, ppa_works=False)
    assert rc != 0
    assert "add-apt-repository -y ppa:deadsnakes/ppa" in log
    assert not any("-m venv" in line for line in log)
    assert "Unable to locate package python3.11" in err


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck is not installed")
def test_setup_passes_shellcheck() -> None:
    script = Path(__import__("gradkata.gradescope", fromlist=["x"]).__file__).parent / "setup.sh"
    assert subprocess.run(["shellcheck", str(script)], env={**os.environ}).returncode == 0
