"""Ghostwriter's JSON-RPC protocol: pygls' LSP protocol plus what requests need noted on arrival.

Each override of a pygls internal says why it exists, with the measured reason;
tests/unit/test_pygls_overrides.py fails if pygls changes what these rely on.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidRequest
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from lsp_server.deferred import AfterResponse

log = logging.getLogger("ghostwriter.jsonrpc")
VERSIONED_METHODS = {
    types.TEXT_DOCUMENT_INLINE_COMPLETION,
    types.TEXT_DOCUMENT_COMPLETION,
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.TEXT_DOCUMENT_HOVER,
}
_KEEP = 1000  # notes of requests that never reached a handler (cancelled first) are dropped past this


class RequestNotes:
    """What was noted when the current request arrived: the version the client sent, the arrival time."""

    def __init__(self) -> None:
        self.versions: dict[Any, int] = {}
        self.arrivals: dict[Any, float] = {}
        self.on_responded: dict[Any, Callable[[float], None]] = {}
        """Called with perf_counter once the response to that request id is written."""
        self.current_id: Callable[[], Any] = lambda: None

    def wanted_version(self) -> int | None:
        """The document version the client sent with the running request, if it sent one.

        LSP's inlineCompletion params carry no version; clients that know theirs put it in
        `textDocument.version` so an answer computed for an older buffer is never shown.
        """
        return self.versions.pop(self.current_id(), None)

    def arrival(self) -> float | None:
        return self.arrivals.pop(self.current_id(), None)

    def when_responded(self, callback: Callable[[float], None]) -> None:
        if len(self.on_responded) > _KEEP:  # answers that were never written (a lost client)
            self.on_responded.clear()
        self.on_responded[self.current_id()] = callback

    def note(self, data: dict[str, Any], params: dict[str, Any]) -> None:
        if not _is_request_id(data.get("id")):  # JSON-RPC allows no other (a list would not even hash)
            return
        if data.get("method") == types.TEXT_DOCUMENT_INLINE_COMPLETION:  # the one request traced
            if len(self.arrivals) > _KEEP:
                self.arrivals.clear()
            self.arrivals[data["id"]] = time.perf_counter()
        document = params.get("textDocument")
        version = document.get("version") if isinstance(document, dict) else None
        if isinstance(version, int) and not isinstance(version, bool):
            if len(self.versions) > _KEEP:
                self.versions.clear()
            self.versions[data["id"]] = version


class GhostwriterProtocol(LanguageServerProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notes = RequestNotes()
        self.notes.current_id = lambda: self.msg_id
        self.after_response = AfterResponse()
        self.write_started = 0.0

    def structure_message(self, data: dict[str, Any]) -> Any:
        params = data.get("params") if isinstance(data, dict) else None
        if "id" in data and isinstance(params, dict) and data.get("method") in VERSIONED_METHODS:
            self.notes.note(data, params)
        try:
            if "method" in data and not isinstance(data["method"], str):
                raise JsonRpcInvalidRequest("the method must be a string")
            return super().structure_message(data)
        except JsonRpcException as error:
            # pygls drops a request whose params don't parse; the editor would wait for it forever.
            # Answer it with the error, then let pygls log the failure as usual.
            if isinstance(data, dict) and "id" in data and "method" in data:
                self._send_response(data["id"], error=error.to_response_error())
            raise

    def handle_message(self, message: Any) -> None:
        # pygls tells requests from notifications with isinstance checks against typing Protocols,
        # which cost ~50 µs a message on Python 3.11; for the two kinds a client sends on every
        # keystroke, the attributes say the same. Everything else goes the usual way.
        method = getattr(message, "method", None)
        if method is None or self._shutdown or getattr(message, "jsonrpc", None) != "2.0":
            if not hasattr(message, "jsonrpc"):  # left unstructured: no "jsonrpc" key, or not an object
                self._refuse(message)
                return
            super().handle_message(message)
            return
        context = contextvars.copy_context()
        if hasattr(message, "id"):
            context.run(self._handle_request, message.id, method, message.params)
        else:
            context.run(self._handle_notification, method, message.params)

    def _execute_handler(self, msg_id: Any, handler: Any, callback: Any, args: Any = None, kwargs: Any = None) -> None:
        # pygls files the future of every async or generator handler under `msg_id` in
        # `_request_futures`, and only a request's answer takes it out again. A notification's
        # future (a random id: didOpen/didChange/didClose are generator built-ins) stayed there
        # for good: ~1 KB per keystroke, 90 MB after 35,000 keystrokes of eight editors
        # (bench/robust/load.py). Such futures are dropped once they are done; nothing looks them up.
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        if isinstance(callback, functools.partial) and callback.func == self._send_handler_result:
            return  # a request: its answer removes it, and $/cancelRequest needs it until then
        future = self._request_futures.get(msg_id)
        if future is None:
            return
        if future.done():
            self._request_futures.pop(msg_id, None)
        else:
            future.add_done_callback(lambda _: self._request_futures.pop(msg_id, None))

    def _refuse(self, message: Any) -> None:
        """Answer a request that is not JSON-RPC 2.0 with Invalid Request; pygls would fail on it and
        leave the client waiting. Anything else without a usable id is logged and dropped."""
        msg_id = message.get("id") if isinstance(message, dict) else None
        if isinstance(message, dict) and "method" in message and _is_request_id(msg_id):
            self._send_response(msg_id, error=JsonRpcInvalidRequest("not a JSON-RPC 2.0 request").to_response_error())
        else:
            log.warning("ignored a message that is not JSON-RPC 2.0: %.200r", message)

    def _send_response(self, msg_id: Any, result: Any | None = None, error: Any | None = None) -> None:
        # Overridden to learn when an answer is out: latency traces end there, and deferred
        # bookkeeping starts there (pygls has no hook after a response is written).
        self.write_started = 0.0
        super()._send_response(msg_id, result, error)
        callback = self.notes.on_responded.pop(msg_id, None)
        if callback is not None:
            # The response is out once handed to the kernel; the write itself may also yield the
            # CPU to the editor it wakes, which is the editor's time, not ours.
            callback(self.write_started or time.perf_counter())
        self.after_response.run()

    def set_writer(self, writer: Any, include_headers: bool = True) -> None:
        super().set_writer(_TimedWriter(writer, self), include_headers)

    # pygls keeps its own copy of every open document and applies each change to it line by line
    # (~2 ms per keystroke on a 5,000-line file). Our document store (lsp_server/documents.py) owns
    # the text and its syntax tree, so these built-ins only hand over to our handlers.
    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Any:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Any:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Any:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None


class _TimedWriter:
    """Notes when each write begins (for latency traces), then writes."""

    def __init__(self, inner: Any, protocol: GhostwriterProtocol) -> None:
        self.inner = inner
        self.protocol = protocol

    def write(self, data: bytes) -> Any:
        self.protocol.write_started = time.perf_counter()
        return self.inner.write(data)

    def close(self) -> Any:
        return self.inner.close()


def _is_request_id(value: Any) -> bool:
    """JSON-RPC ids are strings or numbers (integers, in LSP)."""
    return isinstance(value, (str, int)) and not isinstance(value, bool)
