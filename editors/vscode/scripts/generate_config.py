"""Generate the extension's `contributes.configuration` from the server's settings schema.

The server owns the `ghostwriter` settings (lsp_server/settings.py → lsp_server/schema.py). This
script turns the schema's leaves into VS Code setting declarations and writes them into
package.json, next to the extension's own settings (section `ghostwriterClient`, which never
reaches the server). Run it after changing settings.py; a test fails when package.json drifts.

    python editors/vscode/scripts/generate_config.py           # rewrite package.json
    python editors/vscode/scripts/generate_config.py --check   # exit 1 when package.json is stale
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

EXTENSION_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = EXTENSION_DIR.parent.parent
PACKAGE_JSON = EXTENSION_DIR / "package.json"

SERVER_SECTION = "ghostwriter"
CLIENT_SECTION = "ghostwriterClient"

# Settings that only the extension reads: how to start the server and how to trace it.
CLIENT_PROPERTIES: dict[str, Any] = {
    f"{CLIENT_SECTION}.server.command": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "markdownDescription": (
            "Command line that starts the Ghostwriter language server over stdio. Empty (the default): "
            "`ghostwriter serve`, with `ghostwriter` taken from `PATH`, else from a workspace folder's "
            "`.venv/bin` or `venv/bin`, else from `~/.local/bin` (pipx, uv tool). Otherwise e.g. "
            '`["/path/to/ghostwriter", "serve"]` or `["/path/to/venv/bin/python", "-m", "lsp_server"]`. '
            "Changing it restarts the server."
        ),
        "scope": "machine-overridable",
        "order": 0,
    },
    f"{CLIENT_SECTION}.server.env": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "default": {},
        "markdownDescription": (
            "Extra environment variables for the server process, e.g. `GHOSTWRITER_CACHE_DIR` or the "
            "variable named by `#ghostwriter.backend.apiKeyEnv#`."
        ),
        "scope": "machine-overridable",
        "order": 1,
    },
    f"{CLIENT_SECTION}.server.cwd": {
        "type": "string",
        "default": "",
        "description": "Working directory of the server process; empty means the first workspace folder.",
        "scope": "machine-overridable",
        "order": 2,
    },
    f"{CLIENT_SECTION}.statusBar.enabled": {
        "type": "boolean",
        "default": True,
        "description": "Show the token and cost status bar item.",
        "order": 3,
    },
    f"{CLIENT_SECTION}.trace.server": {
        "type": "string",
        "enum": ["off", "messages", "verbose"],
        "default": "off",
        "description": "Trace the LSP traffic between VS Code and the server in the output channel.",
        "order": 4,
    },
    f"{CLIENT_SECTION}.nextEdit.enabled": {
        "type": "boolean",
        "default": True,
        "description": "Ask for next-edit suggestions after a pause in typing and on a move to another line.",
        "order": 5,
    },
    f"{CLIENT_SECTION}.nextEdit.debounceMs": {
        "type": "integer",
        "default": 400,
        "minimum": 0,
        "description": "Pause after the last keystroke or cursor move before a next edit is asked for, in ms.",
        "order": 6,
    },
}


def _flat_properties() -> dict[str, Any]:
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from lsp_server.schema import flat_properties

    return flat_properties()


def server_properties(flat: dict[str, Any] | None = None) -> dict[str, Any]:
    """VS Code declarations for the server's settings, in the schema's order."""
    flat = _flat_properties() if flat is None else flat
    properties: dict[str, Any] = {}
    for order, (key, leaf) in enumerate(flat.items()):
        declaration = copy.deepcopy(leaf)
        # The settings editor sorts alphabetically unless told otherwise; keep the model's order.
        declaration["order"] = order
        properties[key] = declaration
    return properties


def contributed_configuration(flat: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The whole `contributes.configuration` array: server settings first, then the extension's."""
    return [
        {
            "id": SERVER_SECTION,
            "title": "Ghostwriter",
            "properties": server_properties(flat),
        },
        {
            "id": CLIENT_SECTION,
            "title": "Ghostwriter: Editor Client",
            "properties": copy.deepcopy(CLIENT_PROPERTIES),
        },
    ]


def render_package_json(package: dict[str, Any], configuration: list[dict[str, Any]]) -> str:
    updated = dict(package)
    contributes = dict(updated.get("contributes", {}))
    contributes["configuration"] = configuration
    updated["contributes"] = contributes
    return json.dumps(updated, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail instead of writing when package.json is stale")
    parser.add_argument("--package-json", type=Path, default=PACKAGE_JSON)
    args = parser.parse_args(argv)

    current_text = args.package_json.read_text(encoding="utf-8")
    wanted_text = render_package_json(json.loads(current_text), contributed_configuration())
    if current_text == wanted_text:
        print(f"{args.package_json.name}: contributes.configuration is up to date")
        return 0
    if args.check:
        print(
            f"{args.package_json.name}: contributes.configuration is stale; "
            "run `python editors/vscode/scripts/generate_config.py`",
            file=sys.stderr,
        )
        return 1
    args.package_json.write_text(wanted_text, encoding="utf-8")
    print(f"{args.package_json.name}: contributes.configuration regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
