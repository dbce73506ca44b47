"""The headless command line: each command is a module with HELP, DESCRIPTION, add_arguments and run.

They run the server's own services (lsp_server/commands/session.py) around a client face that
writes to the terminal (headless.py), so a command and the editor get the same answer, cache,
ledger, budget and privacy rules. lsp_server/cli.py builds the parser and dispatches.
"""

from __future__ import annotations

import importlib
from types import ModuleType

COMMAND_NAMES = ("complete", "explain", "refactor", "review", "usage")


def command(name: str) -> ModuleType:
    return importlib.import_module(f"lsp_server.commands.{name}")
