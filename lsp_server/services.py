"""The services features share: settings, documents, pipeline, ledger, client, background tasks.

The backend route, cache and pipeline are rebuilt from settings whenever the settings change,
so a feature reads `services.pipeline` (or `.router`, `.settings`) at call time and never keeps it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from lsprotocol import types

from cache import PromptCache
from lsp_server.backend_setup import build_router, estimate_tokens_for
from lsp_server.backends.router import BackendRouter
from lsp_server.client import Client
from lsp_server.deferred import AfterResponse
from lsp_server.documents import DocumentStore
from lsp_server.errors import BackendError, BackendStarting, PrivacyRefusal
from lsp_server.generation import Pipeline
from lsp_server.jsonrpc import RequestNotes
from lsp_server.log import add_secret, set_content_mode
from lsp_server.path_policy import PathPolicy
from lsp_server.pricing import PriceTable
from lsp_server.settings import Settings
from lsp_server.usage import UsageLedger

log = logging.getLogger("ghostwriter.services")


class Services:
    def __init__(self, client: Client, requests: RequestNotes, after_response: AfterResponse) -> None:
        self.client = client
        self.requests = requests
        self.after_response = after_response
        self.settings = Settings()
        # Commands reuse a running server's bundled engine; a server starts (and announces) its own.
        self.reuse_engine = False
        self.settings_errors: list[str] = []
        self.documents = DocumentStore()
        self.ledger = UsageLedger(PriceTable())
        self.router = BackendRouter(self.settings, kind="none", remote=None)
        self.cache = PromptCache(self.settings.cache_dir, size_mb=1, ttl_hours=1, enabled=False)
        self.pipeline = Pipeline(self.router, self.cache, self.ledger, prompt_version=0,
                                 estimate_tokens=estimate_tokens_for(self.settings), defer=after_response.add)
        # Cross-file context honours privacy.rules, asked of the pipeline of the moment (it knows the route).
        self.documents.index.shareable = lambda source: self.pipeline.may_share(source)
        self.backend_problem = ""
        """The last backend failure the user was told about; cleared when a call goes through."""
        self.on_engine_state: Callable[[str], None] = lambda state: None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._shown: set[str] = set()

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

    async def apply(self, settings: Settings, errors: list[str]) -> None:
        """Swap in new settings and rebuild the services they shape."""
        from context.fim import PROMPT_VERSION

        previous = self.settings
        self.settings = settings
        self.settings_errors = errors
        self.report_settings_errors(errors)
        set_content_mode(settings.log.content)
        add_secret(settings.api_key())  # the log writer masks the key wherever it might appear
        self.ledger.prices = PriceTable.from_settings(settings.pricing)
        self.ledger.budget_unit = settings.budget.unit
        self.ledger.daily_limit = settings.budget.daily_limit
        self.ledger.session_limit = settings.budget.session_limit
        if (previous.cache != settings.cache or not self.cache.enabled) and settings.cache.enabled:
            self.cache.close()
            self.cache = PromptCache(settings.cache_dir, size_mb=settings.cache.size_mb,
                                     ttl_hours=settings.cache.ttl_hours)
        if previous.backend != settings.backend or self.router.kind == "none":
            old = self.router
            self.router = build_router(settings, self.client, self.run_task, self.on_engine_state,
                                       reuse_engine=self.reuse_engine)
            self.run_task(old.aclose(), "close old backend")
        self.router.settings = settings
        listeners = self.pipeline.listeners
        self.pipeline = Pipeline(self.router, self.cache, self.ledger, prompt_version=PROMPT_VERSION,
                                 estimate_tokens=estimate_tokens_for(settings),
                                 redact_secrets=settings.privacy.redact_secrets,
                                 policy=PathPolicy.from_settings(settings.privacy.rules),
                                 defer=self.after_response.add)
        self.pipeline.listeners = listeners
        self.pipeline.confirm_over_budget = self.confirm_over_budget

    async def confirm_over_budget(self, reason: str) -> bool:
        """Ask before an explicit request spends past a budget; no answer (or no support) means no."""
        choice = await self.client.ask(types.MessageType.Warning, f"Ghostwriter: {reason}. Spend anyway?",
                                       ["Spend anyway", "Cancel"], timeout_s=120)
        return choice == "Spend anyway"

    def report_settings_errors(self, errors: list[str]) -> None:
        """One message per distinct problem: a bad key is reported once, not on every reload."""
        fresh = [e for e in errors if e not in self._shown]
        for error in errors:
            log.warning("settings: %s", error)
        if fresh:
            self._shown.update(fresh)
            self.client.show(types.MessageType.Warning,
                             "Ghostwriter settings problem (defaults kept):\n" + "\n".join(fresh))

    def notify_error_once(self, error: BackendError) -> None:
        """Backend errors outside a user's explicit request go to the log, and to the user once."""
        if isinstance(error, BackendStarting):
            log.info("backend: %s", error.user_message)  # shown as "busy" in the status, not as an error
            return
        if isinstance(error, PrivacyRefusal):  # the rules working, not a broken backend: no error state
            log.info("privacy: %s", error.user_message)
            if error.quiet:
                self.show_once(f"privacy:{error.user_message}", types.MessageType.Info,
                               f"Ghostwriter: {error.user_message}")
            elif f"privacy:{error.user_message}" not in self._shown:
                self._shown.add(f"privacy:{error.user_message}")
                self.client.show(types.MessageType.Warning, f"Ghostwriter: {error.user_message}")
            return
        log.warning("backend: %s", error.user_message, extra={"fields": {"kind": error.kind}})
        self.backend_problem = error.user_message
        key = f"{error.kind}:{error.user_message}"
        if key not in self._shown:
            self._shown.add(key)
            self.client.show(types.MessageType.Error, f"Ghostwriter: {error.user_message}")

    def show_once(self, key: str, kind: types.MessageType, text: str) -> None:
        if key not in self._shown:
            self._shown.add(key)
            self.client.log(kind, text)

    async def close(self) -> None:
        await self.router.aclose()
        self.cache.close()
