#!/usr/bin/env bash
# Gradescope runs this once, in /autograder/source, when it builds the autograder image.
#
# gradkata needs Python 3.11 or newer. Gradescope's default base image is Ubuntu
# 22.04, whose python3 is 3.10: there this script installs python3.11 (from
# Ubuntu's own universe archive, else from the deadsnakes PPA) and builds the
# virtual environment with it. On 24.04 (python3 is 3.12) python3 is used as is.
# tests/export/test_gradescope_setup.py runs this script against a fake apt-get
# and python3 for both images.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
VENV="${GRADKATA_VENV:-/autograder/venv}"

new_enough() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null
}

apt-get update -q
apt-get install -y -q python3 python3-venv python3-pip
PYTHON=python3
if ! new_enough python3; then
    PYTHON=python3.11
    echo "setup.sh: python3 is older than 3.11; installing python3.11" >&2
    if ! apt-get install -y -q python3.11 python3.11-venv; then
        apt-get install -y -q software-properties-common
        add-apt-repository -y ppa:deadsnakes/ppa
        apt-get update -q
        apt-get install -y -q python3.11 python3.11-venv
    fi
    if ! new_enough "$PYTHON"; then
        echo "setup.sh: could not install Python 3.11 or newer; choose an Ubuntu 24.04 base image" >&2
        exit 1
    fi
fi
"$PYTHON" -m venv "$VENV"
# torch pinned, CPU wheels: an unpinned torch pulls several GB of CUDA packages.
"$VENV/bin/pip" install -q --disable-pip-version-check "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
"$VENV/bin/pip" install -q --disable-pip-version-check .
