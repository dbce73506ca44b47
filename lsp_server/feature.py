"""The shape every feature has: it owns its state, registers its handlers, and hears the lifecycle.

The server holds a typed list of features and calls these methods in order; a feature overrides
the ones it needs. Features receive the narrow `Services` they use, never the server.
"""

from __future__ import annotations

from typing import ClassVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from lsp_server.documents import OpenDocument


class Feature:
    name: ClassVar[str]
    """What `ghostwriter serve --exclude NAME` leaves out."""

    def register(self, server: LanguageServer) -> None:
        """Add this feature's request handlers and commands to the server."""

    def initialize(self, params: types.InitializeParams) -> None:
        """The client said what it can do; capabilities are computed after this, so late handlers may register."""

    def initialized(self) -> None:
        """The session has started: background work may begin."""

    def settings_changed(self) -> None:
        """New settings are in `services.settings` (and the services they shape were rebuilt)."""

    def engine_state_changed(self, state: str) -> None:
        """The bundled engine moved to `state` (starting, ready, failed, restarting, stopped)."""

    def document_opened(self, document: OpenDocument) -> None: ...

    def document_changed(self, document: OpenDocument) -> None: ...

    def document_closed(self, uri: str) -> None: ...

    async def shutdown(self) -> None:
        """Save and close what the feature owns; the server goes on with the others if this fails."""
