"""initialize / initialized / didChangeConfiguration / shutdown, and document sync, as calls on the features.

Settings layers: defaults < user config file < environment < initializationOptions <
workspace/configuration. The pulled configuration is re-read on every didChangeConfiguration
(the notification's own payload differs between editors, so it is only a trigger).
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from lsp_server.server import GhostwriterServer  # runtime: pygls resolves handler annotations
from lsp_server.settings import SECTION, env_settings, read_config_file, resolve

log = logging.getLogger("ghostwriter.lifecycle")


class SettingsSources:
    def __init__(self) -> None:
        self.initialization: Any = None
        self.pulled: Any = None

    async def resolve_into(self, server: GhostwriterServer) -> None:
        file_layer, file_errors = read_config_file()
        settings, errors = resolve(file_layer, env_settings(), self.initialization, self.pulled)
        await server.services.apply(settings, file_errors + errors)
        server.each(lambda feature: feature.settings_changed())


def register(server: GhostwriterServer) -> None:
    sources = SettingsSources()
    _register_sync(server)

    @server.feature(types.INITIALIZE)
    async def on_initialize(ls: GhostwriterServer, params: types.InitializeParams) -> None:
        sources.initialization = params.initialization_options
        workspace = params.capabilities.workspace
        ls.client_supports_configuration = bool(workspace and workspace.configuration)
        await sources.resolve_into(ls)
        # Features that depend on the client register now; pygls computes capabilities after this.
        ls.each(lambda feature: feature.initialize(params))

    @server.feature(types.INITIALIZED)
    async def on_initialized(ls: GhostwriterServer, params: types.InitializedParams) -> None:
        if ls.client_supports_configuration:
            ls.services.run_task(pull_configuration(ls, sources), "pull configuration")
        # Scan the workspace folders in the background (time- and size-capped) for definitions.
        ls.services.documents.index_workspace(ls.services.client.workspace_roots())
        ls.each(lambda feature: feature.initialized())

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def on_did_change_configuration(ls: GhostwriterServer,
                                          params: types.DidChangeConfigurationParams) -> None:
        if ls.client_supports_configuration:
            await pull_configuration(ls, sources)
            return
        # Clients that cannot be asked push the settings in the notification itself.
        if isinstance(params.settings, dict) and params.settings:
            sources.pulled = params.settings
            await sources.resolve_into(ls)

    @server.feature(types.SHUTDOWN)
    async def on_shutdown(ls: GhostwriterServer, params: None) -> None:
        # The usage of streams cut early (still read in the background), then of the last calls,
        # before the features save it.
        await ls.services.pipeline.settle(timeout_s=ls.services.pipeline.drain.seconds)
        ls.services.after_response.run()
        for feature in ls.features:
            try:
                await feature.shutdown()
            except Exception as exc:  # shutdown must finish whatever one feature does
                log.warning("shutdown of %s failed: %s", feature.name, exc)
        await ls.services.close()


def _register_sync(server: GhostwriterServer) -> None:
    documents = server.services.documents

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: GhostwriterServer, params: types.DidOpenTextDocumentParams) -> None:
        document = documents.open(params.text_document)
        ls.each(lambda feature: feature.document_opened(document))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: GhostwriterServer, params: types.DidChangeTextDocumentParams) -> None:
        document = documents.change(params, ls.services.client.encoding)
        if document is not None:
            ls.each(lambda feature: feature.document_changed(document))

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: GhostwriterServer, params: types.DidCloseTextDocumentParams) -> None:
        documents.close(params.text_document.uri)
        ls.each(lambda feature: feature.document_closed(params.text_document.uri))


async def pull_configuration(ls: GhostwriterServer, sources: SettingsSources) -> None:
    try:
        pulled = await ls.services.client.configuration(SECTION)
    except Exception as exc:  # a client that fails the request keeps the settings it sent before
        log.warning("workspace/configuration failed: %s", exc)
        return
    if pulled is None or pulled == {}:
        # An empty answer means "nothing configured there", not "reset to defaults".
        if sources.pulled is None:
            return
    sources.pulled = pulled
    await sources.resolve_into(ls)
