"""The three language servers under test, each driven the way an editor drives it, behind one interface.

  ghostwriter  `python -m lsp_server`, textDocument/inlineCompletion, settings via initializationOptions
  tabby        tabby-agent 1.5.0 in LSP mode: only textDocument/completion; config.toml under a temp HOME
  floor        bench/typing/floor_server.py, textDocument/inlineCompletion
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import platformdirs
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

NAMES = ("ghostwriter", "tabby", "floor")
TABBY_VERSION = "1.5.0"


class Unavailable(RuntimeError):
    """This client cannot run on this machine (the reason is the message)."""


@dataclass(frozen=True)
class Edit:
    """A suggestion as an edit of the buffer (str offsets)."""

    start: int
    end: int
    text: str


@dataclass
class Session:
    name: str
    client: LanguageClient
    inline: bool  # inlineCompletion (else textDocument/completion)

    def open(self, uri: str, text: str) -> None:
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))

    def change(self, uri: str, version: int, start: types.Position, end: types.Position, text: str) -> None:
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start, end), text=text)]))

    async def suggest(self, uri: str, position: types.Position) -> tuple[types.Range | None, str] | None:
        """The first suggestion: (range it replaces, or None for the cursor; its text), or None."""
        document = types.TextDocumentIdentifier(uri=uri)
        if self.inline:
            reply = await self.client.text_document_inline_completion_async(types.InlineCompletionParams(
                text_document=document, position=position,
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic)))
            items = reply.items if isinstance(reply, types.InlineCompletionList) else (reply or [])
            if not items:
                return None
            text = items[0].insert_text
            return items[0].range, text if isinstance(text, str) else text.value
        answer = await self.client.text_document_completion_async(types.CompletionParams(
            text_document=document, position=position,
            context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked)))
        entries = answer.items if isinstance(answer, types.CompletionList) else (answer or [])
        if not entries:
            return None
        edit = entries[0].text_edit
        if isinstance(edit, types.TextEdit):
            return edit.range, edit.new_text
        if isinstance(edit, types.InsertReplaceEdit):
            return edit.insert, edit.new_text
        return None, entries[0].insert_text or entries[0].label

    async def close(self) -> None:
        try:
            await self.client.shutdown_session()
        finally:
            await self.client.stop()


async def start(name: str, root: Path, scratch: Path, urls: dict[str, str], model: str) -> Session:
    """A started, initialized server of kind `name`, its workspace `root`."""
    if name == "ghostwriter":
        return await _ghostwriter(root, scratch, urls["oracle"], model)
    if name == "tabby":
        return await _tabby(root, scratch, urls["tabby"])
    if name == "floor":
        command = [sys.executable, "-m", "bench.typing.floor_server", "--base-url", urls["oracle"], "--model", model]
        return Session(name, await _initialize(command, dict(os.environ), root, None), inline=True)
    raise ValueError(f"unknown client {name!r} (known: {', '.join(NAMES)})")


async def _ghostwriter(root: Path, scratch: Path, base_url: str, model: str) -> Session:
    env = {**os.environ, "GHOSTWRITER_CONFIG": os.devnull, "GHOSTWRITER_LOG_LEVEL": "warning",
           "GHOSTWRITER_BASE_URL": base_url, "GHOSTWRITER_MODEL": model}
    # Debounce 0, as Tabby's (fixed 0) and the floor's (none): the replay's own pauses pace the keys.
    settings = {"backend": {"kind": "openai", "baseUrl": base_url, "model": model},
                "cache": {"dir": str(scratch / "cache")}, "completion": {"debounceMs": 0}}
    client = await _initialize([sys.executable, "-m", "lsp_server"], env, root, settings)
    return Session("ghostwriter", client, inline=True)


async def _tabby(root: Path, scratch: Path, endpoint: str) -> Session:
    cli = tabby_agent()
    home = scratch / "home"
    config = home / ".tabby-client" / "agent" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    # Written before the first start: the agent's telemetry is on by default and fires at startup.
    config.write_text(f"""[server]
endpoint = "{endpoint}"
token = "typing-bench-token"

[completion.debounce]
mode = "fixed"
interval = 0

[logs]
level = "silent"

[anonymousUsageTracking]
disable = true
""")
    env = {**os.environ, "HOME": str(home)}
    client = await _initialize(["node", str(cli), "--lsp", "--stdio"], env, root, None)
    return Session("tabby", client, inline=False)


async def _initialize(command: list[str], env: dict[str, str], root: Path, options: Any) -> LanguageClient:
    client = cast(LanguageClient, await ClientServerConfig(server_command=command, server_env=env).start())
    capabilities = types.ClientCapabilities(text_document=types.TextDocumentClientCapabilities(
        inline_completion=types.InlineCompletionClientCapabilities(),
        completion=types.CompletionClientCapabilities(completion_item=types.ClientCompletionItemOptions(
            documentation_format=[types.MarkupKind.Markdown, types.MarkupKind.PlainText])),
        synchronization=types.TextDocumentSyncClientCapabilities()))
    await client.initialize_session(types.InitializeParams(
        capabilities=capabilities, initialization_options=options, root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)]))
    return client


def tabby_agent() -> Path:
    """The agent's cli.js, installed from npm into the user cache on first use."""
    if not _node_major() >= 18:
        raise Unavailable("node >= 18 is needed for tabby-agent (Debian: apt-get install nodejs npm)")
    home = Path(platformdirs.user_cache_dir("ghostwriter-bench")) / f"tabby-agent-{TABBY_VERSION}"
    cli = home / "node_modules" / "tabby-agent" / "dist" / "cli.js"
    if not cli.is_file():
        home.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(["npm", "install", "--prefix", str(home), "--no-audit", "--no-fund",
                            f"tabby-agent@{TABBY_VERSION}"], check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as error:
            raise Unavailable(f"npm could not install tabby-agent@{TABBY_VERSION}: {error}") from error
    return cli


def _node_major() -> int:
    try:
        out = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return 0
    return int(out.strip().lstrip("v").split(".")[0] or 0)
