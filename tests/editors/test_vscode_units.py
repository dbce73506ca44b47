"""The VS Code extension's pure launch helpers (editors/vscode/src/launch.ts), run by node's test runner.

Needs the extension's npm dependencies (`cd editors/vscode && npm ci`); skipped without them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

EXTENSION = Path(__file__).resolve().parents[2] / "editors" / "vscode"


def test_launch_helpers() -> None:
    npm = shutil.which("npm")
    if npm is None or not (EXTENSION / "node_modules" / ".bin" / "esbuild").exists():
        pytest.skip("no npm or no editors/vscode/node_modules (run: cd editors/vscode && npm ci)")
    done = subprocess.run([npm, "run", "-s", "test:unit"], cwd=EXTENSION, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
