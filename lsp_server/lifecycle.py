"""initialize / initialized / workspace/didChangeConfiguration / shutdown.

Settings layers: defaults < user config file < environment < initializationOptions <
workspace/configuration. The pulled configuration is re-read on every didChangeConfiguration
(the notification's own payload differs between editors, so it is only a trigger).
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from lsp_server.server import GhostwriterServer
from lsp_server.settings import SECTION, env_settings, read_config_file, resolve

log = logging.getLogger("ghostwriter.lifecycle")


class SettingsSources:
    def __init__(self) -> None:
        self.initialization: Any = None
        self.pulled: Any = None

    async def resolve_into(self, server: GhostwriterServer) -> None:
        file_layer, file_errors = read_config_file()
        settings, errors = resolve(file_layer, env_settings(), self.initialization, self.pulled)
        await server.apply_settings(settings, file_errors + errors)


def register(server: GhostwriterServer) -> None:
    sources = SettingsSources()

    @server.feature(types.INITIALIZE)
    async def on_initialize(ls: GhostwriterServer, params: types.InitializeParams) -> None:
        sources.initialization = params.initialization_options
        workspace = params.capabilities.workspace
        ls.client_supports_configuration = bool(workspace and workspace.configuration)
        await sources.resolve_into(ls)
        # Features that depend on the client register now; pygls computes capabilities after this.
        for hook in ls.extensions.get("on_initialize", []):
            hook(params)

    @server.feature(types.INITIALIZED)
    async def on_initialized(ls: GhostwriterServer, params: types.InitializedParams) -> None:
        if ls.client_supports_configuration:
            ls.run_task(pull_configuration(ls, sources), "pull configuration")
        start_hooks = ls.extensions.get("on_initialized", [])
        for hook in start_hooks:
            hook()

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
        ls.run_after_response()  # usage of the last calls, before the hooks save it
        for hook in ls.extensions.get("on_shutdown", []):
            try:
                await hook()
            except Exception as exc:  # shutdown must finish whatever one hook does
                log.warning("shutdown hook failed: %s", exc)
        await ls.router.aclose()
        ls.cache.close()


async def pull_configuration(ls: GhostwriterServer, sources: SettingsSources) -> None:
    try:
        result = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)]))
    except Exception as exc:  # a client that fails the request keeps the settings it sent before
        log.warning("workspace/configuration failed: %s", exc)
        return
    pulled = result[0] if result else None
    if pulled is None or pulled == {}:
        # An empty answer means "nothing configured there", not "reset to defaults".
        if sources.pulled is None:
            return
    sources.pulled = pulled
    await sources.resolve_into(ls)
