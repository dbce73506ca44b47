"""What features may ask of the editor on the other end: messages, notifications, edits, progress.

A narrow face over pygls' server, so a feature depends on "the client" rather than on the
server class, and the questions every feature used to answer for itself (which position
encoding? does the client show progress?) have one answer here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.progress import Progress

log = logging.getLogger("ghostwriter.client")


class Client:
    def __init__(self, server: LanguageServer) -> None:
        self._server = server

    @property
    def capabilities(self) -> types.ClientCapabilities:
        try:
            return self._server.client_capabilities
        except Exception:  # asked before initialize
            return types.ClientCapabilities()

    @property
    def encoding(self) -> str:
        """The negotiated position encoding (LSP's default, UTF-16, until one is agreed)."""
        try:
            return str(self._server.workspace.position_encoding or "utf-16")
        except RuntimeError:  # no workspace before initialize
            return "utf-16"

    @property
    def root_path(self) -> str | None:
        try:
            return self._server.workspace.root_path
        except Exception:
            return None

    def workspace_roots(self) -> list[str]:
        """The workspace folders' URIs, else the root URI, else none."""
        try:
            workspace = self._server.workspace
        except RuntimeError:  # no workspace before initialize
            return []
        folders = workspace.folders
        if folders:
            return [folder.uri for folder in folders.values()]
        return [workspace.root_uri] if workspace.root_uri else []

    @property
    def shows_progress(self) -> bool:
        window = self.capabilities.window
        return bool(window and window.work_done_progress)

    @property
    def progress(self) -> Progress:
        return self._server.work_done_progress

    def refresh_code_lenses(self) -> None:
        """Ask the client to re-request code lenses, where it supports that (LSP 3.16)."""
        workspace = self.capabilities.workspace
        lens = workspace.code_lens if workspace else None
        if lens is not None and lens.refresh_support:
            self._server.workspace_code_lens_refresh(None)

    def show(self, kind: types.MessageType, text: str) -> None:
        self._server.window_show_message(types.ShowMessageParams(type=kind, message=text))

    def log(self, kind: types.MessageType, text: str) -> None:
        self._server.window_log_message(types.LogMessageParams(type=kind, message=text))

    def notify(self, method: str, payload: Any) -> None:
        self._server.protocol.notify(method, payload)

    async def ask(self, kind: types.MessageType, text: str, choices: list[str], timeout_s: float) -> str | None:
        """The title the user picked; None when the client cannot ask, does not answer or is dismissed."""
        actions = [types.MessageActionItem(title=choice) for choice in choices]
        try:
            picked = await asyncio.wait_for(self._server.window_show_message_request_async(
                types.ShowMessageRequestParams(type=kind, message=text, actions=actions)), timeout=timeout_s)
        except Exception as exc:
            log.info("question not answered: %s", exc)
            return None
        return picked.title if picked is not None else None

    async def apply_edit(self, edit: types.WorkspaceEdit, label: str) -> types.ApplyWorkspaceEditResult:
        return await self._server.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=label))

    async def configuration(self, section: str) -> Any:
        result = await self._server.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=section)]))
        return result[0] if result else None
