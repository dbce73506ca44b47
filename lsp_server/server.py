"""The server object: pygls LanguageServer plus the services every feature shares.

Features are attached by `register(server)`; capabilities follow from what was attached.
Services (backend route, cache, ledger, pipeline) are rebuilt from settings whenever the
settings change, so a feature always reads `server.pipeline` at call time, never caches it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from cache import PromptCache
from lsp_server import __version__
from lsp_server.backends.router import BackendRouter
from lsp_server.errors import BackendError, BackendStarting
from lsp_server.generation import Pipeline
from lsp_server.pricing import PriceTable
from lsp_server.services import build_router, estimate_tokens_for
from lsp_server.settings import Settings
from lsp_server.usage import UsageLedger

if TYPE_CHECKING:
    from features.documents import DocumentStore

log = logging.getLogger("ghostwriter.server")


VERSIONED_METHODS = {
    types.TEXT_DOCUMENT_INLINE_COMPLETION,
    types.TEXT_DOCUMENT_COMPLETION,
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.TEXT_DOCUMENT_HOVER,
}


class GhostwriterProtocol(LanguageServerProtocol):
    """Adds one thing to pygls' protocol: the optional document version a client may send with a request.

    LSP's inlineCompletion params carry no version; clients that know theirs put it in
    `textDocument.version` so an answer computed for an older buffer is never shown.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_versions: dict[Any, int] = {}
        self.arrivals: dict[Any, float] = {}
        """perf_counter when each inline-completion request was read, for its latency trace."""
        self.on_responded: dict[Any, Callable[[float], None]] = {}
        """Called with perf_counter once the response to that request id is written."""
        self.write_started = 0.0

    def structure_message(self, data: dict[str, Any]) -> Any:
        params = data.get("params") if isinstance(data, dict) else None
        if "id" in data and isinstance(params, dict) and data.get("method") in VERSIONED_METHODS:
            if data.get("method") == types.TEXT_DOCUMENT_INLINE_COMPLETION:  # the one request traced
                if len(self.arrivals) > 1000:  # requests that never reached a handler
                    self.arrivals.clear()
                self.arrivals[data["id"]] = time.perf_counter()
            document = params.get("textDocument")
            version = document.get("version") if isinstance(document, dict) else None
            if isinstance(version, int) and not isinstance(version, bool):
                if len(self.request_versions) > 1000:  # ids of requests cancelled before they ran
                    self.request_versions.clear()
                self.request_versions[data["id"]] = version
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            # pygls drops a request whose params don't parse; the editor would wait for it forever.
            # Answer it with the error, then let pygls log the failure as usual.
            if isinstance(data, dict) and "id" in data and "method" in data:
                self._send_response(data["id"], error=error.to_response_error())
            raise

    def take_version(self, msg_id: Any) -> int | None:
        return self.request_versions.pop(msg_id, None)

    def handle_message(self, message: Any) -> None:
        # pygls tells requests from notifications with isinstance checks against typing Protocols,
        # which cost ~50 µs a message on Python 3.11; for the two kinds a client sends on every
        # keystroke, the attributes say the same. Everything else goes the usual way.
        method = getattr(message, "method", None)
        if method is None or self._shutdown or getattr(message, "jsonrpc", None) != "2.0":
            super().handle_message(message)
            return
        context = contextvars.copy_context()
        if hasattr(message, "id"):
            context.run(self._handle_request, message.id, method, message.params)
        else:
            context.run(self._handle_notification, method, message.params)

    def _send_response(self, msg_id: Any, result: Any | None = None, error: Any | None = None) -> None:
        self.write_started = 0.0
        super()._send_response(msg_id, result, error)
        callback = self.on_responded.pop(msg_id, None)
        if callback is not None:
            # The response is out once handed to the kernel; the write itself may also yield the
            # CPU to the editor it wakes, which is the editor's time, not ours.
            callback(self.write_started or time.perf_counter())
        if isinstance(self._server, GhostwriterServer):
            self._server.run_after_response()  # bookkeeping that waited for this answer to go out

    def set_writer(self, writer: Any, include_headers: bool = True) -> None:
        super().set_writer(_TimedWriter(writer, self), include_headers)

    # pygls keeps its own copy of every open document and applies each change to it line by line
    # (~2 ms per keystroke on a 5,000-line file). Our document store (features/documents.py) owns
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


class GhostwriterServer(LanguageServer):
    documents: DocumentStore

    def __init__(self) -> None:
        super().__init__(name="ghostwriter", version=__version__, protocol_cls=GhostwriterProtocol)
        self.settings = Settings()
        self.settings_errors: list[str] = []
        self.client_supports_configuration = False
        self.ledger = UsageLedger(PriceTable())
        self.router = BackendRouter(self.settings, kind="none", remote=None)
        self.cache = PromptCache(self.settings.cache_dir, size_mb=1, ttl_hours=1, enabled=False)
        self.pipeline = Pipeline(self.router, self.cache, self.ledger, prompt_version=0,
                                 estimate_tokens=estimate_tokens_for(self.settings), defer=self.after_response)
        self.extensions: dict[str, Any] = {}
        """Per-feature state, keyed by feature module name (e.g. the completion engine)."""
        self._tasks: set[asyncio.Task[Any]] = set()
        self._shown_errors: set[str] = set()
        self._after_response: list[Callable[[], None]] = []
        self._after_timer: asyncio.TimerHandle | None = None

    def after_response(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the response being prepared has been written, or within 20 ms.

        For bookkeeping the answer need not wait for (usage, cache store): it runs right after the
        next response goes out, before the next message is read, so it is never observably late.
        """
        self._after_response.append(callback)
        if self._after_timer is None:
            try:
                self._after_timer = asyncio.get_running_loop().call_later(0.02, self.run_after_response)
            except RuntimeError:  # no loop (a synchronous caller): run it now
                self.run_after_response()

    def run_after_response(self) -> None:
        if self._after_timer is not None:
            self._after_timer.cancel()
            self._after_timer = None
        callbacks, self._after_response = self._after_response, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("bookkeeping after a response failed")

    def _start_io_async(self, stdin: Any = None, stdout: Any = None) -> None:
        from lsp_server.stdio import serve_stdio

        serve_stdio(self, stdin, stdout)

    def run_task(self, coro: Coroutine[Any, Any, Any], name: str = "") -> asyncio.Task[Any]:
        """Run background work, keep a reference (asyncio holds tasks weakly) and log its failure."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._finish_task(t, name))
        return task

    def _finish_task(self, task: asyncio.Task[Any], name: str) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("background task %s failed: %s", name or task.get_name(), error, exc_info=error)

    async def apply_settings(self, settings: Settings, errors: list[str]) -> None:
        """Swap in new settings and rebuild the services they shape."""
        from context.fim import PROMPT_VERSION

        previous = self.settings
        self.settings = settings
        self.settings_errors = errors
        self.report_settings_errors(errors)
        self.ledger.prices = PriceTable.from_settings(settings.pricing)
        self.ledger.budget_unit = settings.budget.unit
        self.ledger.daily_limit = settings.budget.dailyLimit
        self.ledger.session_limit = settings.budget.sessionLimit
        if (previous.cache != settings.cache or not self.cache.enabled) and settings.cache.enabled:
            self.cache.close()
            self.cache = PromptCache(settings.cache_dir, size_mb=settings.cache.sizeMb,
                                     ttl_hours=settings.cache.ttlHours)
        if previous.backend != settings.backend or self.router.kind == "none":
            old = self.router
            self.router = build_router(self, settings)
            self.run_task(old.aclose(), "close old backend")
        self.router.settings = settings
        listeners = self.pipeline.listeners
        self.pipeline = Pipeline(self.router, self.cache, self.ledger, prompt_version=PROMPT_VERSION,
                                 estimate_tokens=estimate_tokens_for(settings),
                                 redact_secrets=settings.privacy.redactSecrets, defer=self.after_response)
        self.pipeline.listeners = listeners
        self.pipeline.confirm_over_budget = self.confirm_over_budget
        for hook in self.extensions.get("on_settings", []):
            hook()

    async def confirm_over_budget(self, reason: str) -> bool:
        """Ask before an explicit request spends past a budget; no answer (or no support) means no."""
        spend, cancel = types.MessageActionItem(title="Spend anyway"), types.MessageActionItem(title="Cancel")
        try:
            choice = await asyncio.wait_for(self.window_show_message_request_async(types.ShowMessageRequestParams(
                type=types.MessageType.Warning, message=f"Ghostwriter: {reason}. Spend anyway?",
                actions=[spend, cancel])), timeout=120)
        except Exception as exc:  # a client that can't ask, or never answers
            log.info("budget confirmation not answered: %s", exc)
            return False
        return choice is not None and choice.title == spend.title

    def report_settings_errors(self, errors: list[str]) -> None:
        """One message per distinct problem: a bad key is reported once, not on every reload."""
        fresh = [e for e in errors if e not in self._shown_errors]
        for error in errors:
            log.warning("settings: %s", error)
        if fresh:
            self._shown_errors.update(fresh)
            text = "Ghostwriter settings problem (defaults kept):\n" + "\n".join(fresh)
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=text))

    def notify_error_once(self, error: BackendError) -> None:
        """Backend errors outside a user's explicit request go to the log, and to the user once."""
        if isinstance(error, BackendStarting):
            log.info("backend: %s", error.user_message)  # shown as "busy" in the status, not as an error
            return
        log.warning("backend: %s", error.user_message, extra={"fields": {"kind": error.kind}})
        self.extensions["last_error"] = error.user_message
        key = f"{error.kind}:{error.user_message}"
        if key not in self._shown_errors:
            self._shown_errors.add(key)
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error,
                                                             message=f"Ghostwriter: {error.user_message}"))

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pygls would pop a message up for every out-of-band error; log instead, show once.
        log.error("server error (%s): %s", getattr(source, "__name__", source), error, exc_info=error)
        key = f"server:{type(error).__name__}"
        if key not in self._shown_errors:
            self._shown_errors.add(key)
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Error,
                                                           message=f"Ghostwriter internal error: {error}"))


def create_server(exclude: tuple[str, ...] = ()) -> GhostwriterServer:
    from features import FEATURES
    from lsp_server import lifecycle
    from lsp_server.log import set_request_id_source

    server = GhostwriterServer()
    set_request_id_source(lambda: server.protocol.msg_id)
    lifecycle.register(server)
    for name, module in FEATURES:
        if name not in exclude:
            module.register(server)
    return server
