#!/usr/bin/env bash
# Set up gradkata on a fresh machine: a virtual environment with torch 2.13 CPU,
# and gradkata itself in editable mode with its test and notebook extras.
# The sandbox needs no system package: its layers (rlimits, namespaces, uid
# drop, Landlock, seccomp) go through the kernel directly; `gradkata doctor`
# says which are active.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
# torch is pinned: an unpinned torch pulls the newest build with several GB of CUDA packages.
.venv/bin/pip install -q --disable-pip-version-check "torch==2.13.0" -e ".[test,notebooks]"
# The notebooks and nbgrader run on the `python3` kernel: make it this venv's python.
.venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
# A headless browser for tests/report/test_class_report.py (the HTML class report in
# a real browser). Only as root (CI), and not with GRADKATA_NO_BROWSER=1; without it
# that test is skipped with the reason.
if [ "$(id -u)" = 0 ] && [ "${GRADKATA_NO_BROWSER:-0}" != 1 ] && command -v apt-get >/dev/null \
        && ! command -v chromium >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
        || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; } \
        || echo "setup.sh: could not install chromium; the browser test of the class report will be skipped" >&2
fi
