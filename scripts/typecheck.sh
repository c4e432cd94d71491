#!/usr/bin/env bash
# The type gate: mypy over the package as it is imported (`gradkata`), with the
# settings of pyproject.toml's [tool.mypy]. The folder grader/ only becomes
# `gradkata` when installed, so mypy reads it through a symlink of that name.
# PYTHON picks the interpreter (default: the repository's .venv).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
ln -s "$root/grader" "$tmp/gradkata"
cd "$tmp"
exec "${PYTHON:-$root/.venv/bin/python}" -m mypy --config-file "$root/pyproject.toml" --cache-dir "$root/.mypy_cache" -p gradkata "$@"
