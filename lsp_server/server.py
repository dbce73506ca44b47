"""The server: pygls' LanguageServer holding the shared services and a typed list of features.

It only wires: lifecycle.py turns LSP lifecycle and document-sync messages into calls on the
features, in order; wiring.py builds the server with its features.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from lsp_server import __version__
from lsp_server.client import Client
from lsp_server.feature import Feature
from lsp_server.jsonrpc import GhostwriterProtocol
from lsp_server.services import Services

log = logging.getLogger("ghostwriter.server")


class GhostwriterServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(name="ghostwriter", version=__version__, protocol_cls=GhostwriterProtocol)
        protocol: GhostwriterProtocol = self.protocol  # type: ignore[assignment]
        self.services = Services(Client(self), protocol.notes, protocol.after_response)
        self.services.on_engine_state = lambda state: self.each(lambda f: f.engine_state_changed(state))
        self.features: list[Feature] = []
        self.client_supports_configuration = False

    def add(self, feature: Feature) -> None:
        feature.register(self)
        self.features.append(feature)

    def each(self, call: Callable[[Feature], Any]) -> None:
        """Call every feature in order; one feature's failure is logged and does not stop the others."""
        for feature in self.features:
            try:
                call(feature)
            except Exception:
                log.exception("feature %s failed", feature.name)

    def _start_io_async(self, stdin: Any = None, stdout: Any = None) -> None:
        # pygls reads stdin through a worker thread; see stdio.py for the measured cost and our reader.
        from lsp_server.stdio import serve_stdio

        serve_stdio(self, stdin, stdout)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pygls would pop a message up for every out-of-band error; log instead, show once.
        log.error("server error (%s): %s", getattr(source, "__name__", source), error, exc_info=error)
        self.services.show_once(f"server:{type(error).__name__}", types.MessageType.Error,
                                f"Ghostwriter internal error: {error}")
