#!/usr/bin/env bash
# Set up gradkata on a fresh machine: the sandbox's system packages (where apt
# is available and we are root), a virtual environment with torch 2.13 CPU, and
# gradkata itself in editable mode with its test and notebook extras.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && ! command -v bwrap >/dev/null 2>&1; then
  apt-get install -y -q bubblewrap >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q bubblewrap >/dev/null 2>&1) || echo "setup: bubblewrap could not be installed; gradkata doctor will say which layers are missing" >&2
fi

python3 -m venv .venv
# torch is pinned: an unpinned torch pulls the newest build with several GB of CUDA packages.
.venv/bin/pip install -q --disable-pip-version-check "torch==2.13.0" -e ".[test,notebooks]"
# The notebooks and nbgrader run on the `python3` kernel: make it this venv's python.
.venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
