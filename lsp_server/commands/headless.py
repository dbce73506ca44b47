"""The client face without an editor: what features ask of "the client" goes to the terminal instead.

Features and the pipeline run unchanged against `HeadlessClient`: messages are printed on stderr,
work-done progress becomes a bar (on a terminal only), positions are counted in code points (a
column a person types), and questions (spend past the budget?) get no answer, which every caller
already treats as "no", so a script never hangs on a prompt.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types

from lsp_server.client import Client
from lsp_server.commands.terminal import Terminal

_LABELS = {types.MessageType.Error: "error", types.MessageType.Warning: "warning"}


class TerminalProgress:
    """The part of pygls' `Progress` the server uses (create, begin, report, end, tokens), on a terminal."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self.tokens: dict[str, asyncio.Future[Any]] = {}
        self._tasks: dict[str, Any] = {}
        self._titles: dict[str, str] = {}

    def create(self, token: str, callback: Any = None) -> None:
        try:
            self.tokens[token] = asyncio.get_running_loop().create_future()
        except RuntimeError:  # no loop: nothing can cancel it anyway
            pass

    async def create_async(self, token: str) -> None:
        self.create(token)

    def begin(self, token: str, value: types.WorkDoneProgressBegin) -> None:
        self._titles[token] = value.title
        title = f"{value.title}: {value.message}" if value.message else value.title
        self._tasks[token] = self.terminal.task(title, total=100 if value.percentage is not None else None)
        self.terminal.update(self._tasks[token], completed=value.percentage or 0)

    def report(self, token: str, value: types.WorkDoneProgressReport) -> None:
        task = self._tasks.get(token)
        if value.percentage is not None:
            self.terminal.update(task, completed=value.percentage, total=100)
        if value.message:
            self.terminal.update(task, description=f"{self._titles.get(token, '')}: {value.message}")

    def end(self, token: str, value: types.WorkDoneProgressEnd) -> None:
        self.terminal.done(self._tasks.pop(token, None))
        self._titles.pop(token, None)
        future = self.tokens.pop(token, None)
        if future is not None and not future.done():
            future.set_result(None)


class HeadlessClient(Client):
    def __init__(self, terminal: Terminal, root: Path) -> None:
        super().__init__(server=None)  # type: ignore[arg-type]
        self.terminal = terminal
        self.root = root
        self._progress = TerminalProgress(terminal)
        self.notifications: list[tuple[str, Any]] = []

    @property
    def capabilities(self) -> types.ClientCapabilities:
        # Markdown everywhere; no change annotations, so edits come back as plain text changes.
        return types.ClientCapabilities(
            text_document=types.TextDocumentClientCapabilities(
                hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown])),
            window=types.WindowClientCapabilities(work_done_progress=self.terminal.interactive))

    @property
    def encoding(self) -> str:
        return "utf-32"  # columns on a command line count characters, as people and compilers do

    @property
    def root_path(self) -> str | None:
        return str(self.root)

    def workspace_roots(self) -> list[str]:
        return [self.root.as_uri()]

    @property
    def shows_progress(self) -> bool:
        return self.terminal.interactive

    @property
    def progress(self) -> TerminalProgress:  # type: ignore[override]
        return self._progress

    def refresh_code_lenses(self) -> None:
        pass  # no editor, no lenses

    def show(self, kind: types.MessageType, text: str) -> None:
        label = _LABELS.get(kind)
        self.terminal.say(f"ghostwriter: {label}: {text}" if label else f"ghostwriter: {text}")

    def log(self, kind: types.MessageType, text: str) -> None:
        if kind in _LABELS:
            self.show(kind, text)

    def notify(self, method: str, payload: Any) -> None:
        self.notifications.append((method, payload))  # the usage status item has no terminal twin

    async def ask(self, kind: types.MessageType, text: str, choices: list[str], timeout_s: float) -> str | None:
        return None  # unattended: never wait for a person; callers take None as "no"

    async def apply_edit(self, edit: types.WorkspaceEdit, label: str) -> types.ApplyWorkspaceEditResult:
        return types.ApplyWorkspaceEditResult(applied=False, failure_reason="no editor to apply edits")

    async def configuration(self, section: str) -> Any:
        return None
