"""Guards for the pygls internals Ghostwriter overrides (lsp_server/jsonrpc.py, server.py).

Each override leans on a private method's name and parameters, or on a built-in handler that
forwards to the user handler; if pygls changes either, these fail before the server misbehaves.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from lsp_server.jsonrpc import GhostwriterProtocol
from lsp_server.server import GhostwriterServer

OVERRIDDEN: list[tuple[type, str, list[str]]] = [
    (LanguageServerProtocol, "structure_message", ["self", "data"]),
    (LanguageServerProtocol, "handle_message", ["self", "message"]),
    (LanguageServerProtocol, "_send_response", ["self", "msg_id", "result", "error"]),
    (LanguageServerProtocol, "set_writer", ["self", "writer", "include_headers"]),
    (LanguageServerProtocol, "_handle_request", ["self", "msg_id", "method_name", "params"]),
    (LanguageServerProtocol, "_handle_notification", ["self", "method_name", "params"]),
    (LanguageServerProtocol, "_execute_handler", ["self", "msg_id", "handler", "callback", "args", "kwargs"]),
    (LanguageServerProtocol, "_send_handler_result", ["self", "future", "msg_id"]),
    (LanguageServerProtocol, "lsp_text_document__did_open", ["self", "params"]),
    (LanguageServerProtocol, "lsp_text_document__did_change", ["self", "params"]),
    (LanguageServerProtocol, "lsp_text_document__did_close", ["self", "params"]),
    (LanguageServer, "_start_io_async", ["self", "stdin", "stdout"]),
    (LanguageServer, "report_server_error", ["self", "error", "source"]),
]


@pytest.mark.parametrize(("owner", "name", "parameters"), OVERRIDDEN, ids=[n for _, n, _ in OVERRIDDEN])
def test_pygls_still_has_what_we_override(owner: type, name: str, parameters: list[str]) -> None:
    assert list(inspect.signature(getattr(owner, name)).parameters) == parameters


def test_start_io_still_goes_through_the_async_starter() -> None:
    assert "_start_io_async" in inspect.getsource(LanguageServer.start_io)


@pytest.mark.parametrize("method", [types.TEXT_DOCUMENT_DID_OPEN, types.TEXT_DOCUMENT_DID_CHANGE,
                                    types.TEXT_DOCUMENT_DID_CLOSE])
def test_document_sync_reaches_our_handler_and_skips_the_pygls_copy(method: str) -> None:
    server = GhostwriterServer()  # not initialized: pygls' own handlers would fail on the missing workspace
    protocol: GhostwriterProtocol = server.protocol  # type: ignore[assignment]

    def ours(params: Any) -> None: ...

    server.feature(method)(ours)
    builtin = {types.TEXT_DOCUMENT_DID_OPEN: protocol.lsp_text_document__did_open,
               types.TEXT_DOCUMENT_DID_CHANGE: protocol.lsp_text_document__did_change,
               types.TEXT_DOCUMENT_DID_CLOSE: protocol.lsp_text_document__did_close}[method]
    params = object()
    assert list(builtin(params)) == [(ours, (params,), None)]  # type: ignore[arg-type]


def test_versions_and_arrivals_are_noted_for_the_running_request() -> None:
    protocol: GhostwriterProtocol = GhostwriterServer().protocol  # type: ignore[assignment]
    data = {"jsonrpc": "2.0", "id": 7, "method": types.TEXT_DOCUMENT_INLINE_COMPLETION,
            "params": {"textDocument": {"uri": "file:///a.py", "version": 3}, "position": {"line": 0, "character": 0},
                       "context": {"triggerKind": 2}}}
    protocol.structure_message(data)
    protocol.notes.current_id = lambda: 7
    assert protocol.notes.wanted_version() == 3
    assert protocol.notes.arrival() is not None
    assert protocol.notes.wanted_version() is None  # taken once


async def test_notification_futures_are_not_kept() -> None:
    """pygls keeps every async or generator handler's future until a response removes it; notifications
    have none, so each keystroke's didChange used to stay in `_request_futures` for good."""
    import asyncio
    import json

    server = GhostwriterServer()
    protocol: GhostwriterProtocol = server.protocol  # type: ignore[assignment]
    protocol._send_response = lambda *args, **kwargs: None  # type: ignore[method-assign]
    seen: list[Any] = []

    def on_change(params: Any) -> None:
        seen.append(params)

    @server.feature("custom/note")
    async def on_note(params: Any) -> None:
        await asyncio.sleep(0)
        seen.append(params)

    @server.feature("custom/slow")
    async def on_slow(params: Any) -> int:
        await asyncio.sleep(0.05)
        return 1

    server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(on_change)
    change = {"jsonrpc": "2.0", "method": types.TEXT_DOCUMENT_DID_CHANGE, "params": {
        "textDocument": {"uri": "file:///a.py", "version": 2}, "contentChanges": [{"text": "x"}]}}
    for message in [change] * 50 + [{"jsonrpc": "2.0", "method": "custom/note", "params": {}}] * 50:
        protocol.handle_message(json.loads(json.dumps(message), object_hook=protocol.structure_message))
    protocol.handle_message(json.loads('{"jsonrpc": "2.0", "id": 9, "method": "custom/slow", "params": {}}',
                                       object_hook=protocol.structure_message))
    await asyncio.sleep(0.01)
    assert len(seen) == 100
    assert list(protocol._request_futures) == [9]  # the running request stays, so it can be cancelled
    await asyncio.sleep(0.1)
    assert not protocol._request_futures
