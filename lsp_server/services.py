"""Build the services that settings shape: backends (remote, bundled) and token estimation."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.backends.router import BackendRouter, effective_kind
from lsp_server.settings import Settings

if TYPE_CHECKING:
    from lsp_server.server import GhostwriterServer

log = logging.getLogger("ghostwriter.services")


def build_router(server: GhostwriterServer, settings: Settings) -> BackendRouter:
    from lsp_server.backends.openai_compat import OpenAICompatBackend

    kind = effective_kind(settings)
    remote = None
    if settings.backend.baseUrl:
        key_env = settings.backend.apiKeyEnv
        remote = OpenAICompatBackend(
            "openai", settings.backend.baseUrl, settings.api_key(), settings.backend.timeoutMs / 1000,
            api_key_source=f"${key_env}" if key_env else "the settings",
        )
    router = BackendRouter(settings, kind=kind, remote=remote)
    if kind == "vllm":
        _attach_bundled_engine(server, router, settings)
    return router


def _attach_bundled_engine(server: GhostwriterServer, router: BackendRouter, settings: Settings) -> None:
    from lsp_server.backends.openai_compat import OpenAICompatBackend
    from lsp_server.backends.vllm_supervisor import VllmSupervisor, check_environment, parallel_args

    vllm = settings.backend.vllm
    python = vllm.python or sys.executable
    problem = check_environment(python)
    args = [*parallel_args(vllm.tensorParallel, vllm.dataParallel, vllm.expertParallel), *vllm.args]
    progress = EngineProgress(server)
    supervisor = VllmSupervisor(router.vllm_model, args, python=python, on_progress=progress.report,
                                on_state=progress.state_changed, health_timeout_s=vllm.startupTimeoutS)
    router.supervisor = supervisor
    router.local = OpenAICompatBackend("vllm", supervisor.base_url, None, settings.backend.timeoutMs / 1000)
    if problem:
        router.engine_problem = problem
        log.warning("bundled engine unavailable: %s", problem)
        return
    server.run_task(supervisor.start(), "start bundled vLLM")


class EngineProgress:
    """Report the engine's startup through $/progress (when the client supports it) and the log."""

    def __init__(self, server: GhostwriterServer) -> None:
        self.server = server
        self.token: str | None = None

    def report(self, message: str, percent: int | None) -> None:
        log.info("bundled engine: %s", message)
        if not self._client_supports_progress():
            return
        if self.token is None:
            self.token = f"ghostwriter-engine-{uuid.uuid4().hex[:8]}"
            self.server.work_done_progress.create(self.token)
            self.server.work_done_progress.begin(self.token, types.WorkDoneProgressBegin(
                title="Ghostwriter: starting vLLM", message=message, percentage=percent, cancellable=False))
        else:
            self.server.work_done_progress.report(self.token, types.WorkDoneProgressReport(
                message=message, percentage=percent))

    def state_changed(self, state: str) -> None:
        log.info("bundled engine state: %s", state)
        if state in ("ready", "failed", "stopped") and self.token is not None:
            self.server.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=state))
            self.token = None
        on_state = self.server.extensions.get("engine_state_listener")
        if callable(on_state):
            on_state(state)

    def _client_supports_progress(self) -> bool:
        try:
            window = self.server.client_capabilities.window
        except Exception:
            return False
        return bool(window and window.work_done_progress)


def estimate_tokens_for(settings: Settings) -> Callable[[str, str], int]:
    """Token estimate for budgets: the real tokenizer where one is found, else the calibrated estimate."""
    from context.tokens import counter_for  # cached per (model, path): no cache of our own needed

    def estimate(model: str, text: str) -> int:
        return int(counter_for(model, settings.completion.tokenizer or None).count(text))

    return estimate
