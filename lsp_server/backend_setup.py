"""Build what the backend settings shape: the router (remote endpoint, bundled engine) and token estimation."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from lsprotocol import types

from lsp_server.backends.router import BackendRouter, effective_kind
from lsp_server.client import Client
from lsp_server.settings import Settings

RunTask = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]

log = logging.getLogger("ghostwriter.services")


def build_router(settings: Settings, client: Client, run_task: RunTask,
                 on_engine_state: Callable[[str], None], *, reuse_engine: bool = False) -> BackendRouter:
    """`reuse_engine`: use a running server's bundled engine where one is announced (commands do);
    a server owns its engine and announces it instead."""
    from lsp_server.backends.openai_compat import OpenAICompatBackend

    kind = effective_kind(settings)
    remote = None
    if settings.backend.base_url:
        key_env = settings.backend.api_key_env
        remote = OpenAICompatBackend(
            "openai", settings.backend.base_url, settings.api_key(), settings.backend.timeout_ms / 1000,
            api_key_source=f"${key_env}" if key_env else "the settings",
        )
    router = BackendRouter(settings, kind=kind, remote=remote)
    if kind == "vllm":
        progress = EngineProgress(client, on_engine_state)
        if not (reuse_engine and _reuse_running_engine(router, settings, progress)):
            _attach_bundled_engine(router, settings, progress, run_task, announce=not reuse_engine)
    return router


def _engine_args(settings: Settings) -> list[str]:
    from lsp_server.backends.vllm_checks import parallel_args, speculation_args

    vllm = settings.backend.vllm
    return [*parallel_args(vllm.tensor_parallel, vllm.data_parallel, vllm.expert_parallel),
            *speculation_args(vllm.ngram_speculative_tokens), *vllm.args]


def _reuse_running_engine(router: BackendRouter, settings: Settings, progress: EngineProgress) -> bool:
    from lsp_server.backends.engine_registry import find, registry_dir
    from lsp_server.backends.openai_compat import OpenAICompatBackend

    record = find(registry_dir(settings.cache_dir), router.vllm_model, tuple(_engine_args(settings)))
    if record is None:
        return False
    router.supervisor = SharedEngine(record.base_url, record.owner_pid)
    router.local = OpenAICompatBackend("vllm", record.base_url, None, settings.backend.timeout_ms / 1000)
    progress.report(f"using the bundled engine of the running server (pid {record.owner_pid})", None)
    return True


class SharedEngine:
    """Another server's engine, seen through the router's supervisor slot: always ready (its owner
    restarts it and withdraws the announcement meanwhile), and never stopped by us."""

    state = "ready"
    last_error = ""

    def __init__(self, base_url: str, owner_pid: int) -> None:
        self.base_url = base_url
        self.owner_pid = owner_pid

    async def stop(self) -> None:
        return None


class EngineAnnouncer:
    """Announce the engine while it is ready, so that commands on this machine can reuse it."""

    def __init__(self, directory: Path, model: str, args: list[str], on_state: Callable[[str], None]) -> None:
        self.directory, self.model, self.args, self.on_state = directory, model, tuple(args), on_state
        self.base_url = ""
        self.path: Path | None = None

    def state_changed(self, state: str) -> None:
        from lsp_server.backends.engine_registry import EngineRecord, announce, withdraw

        withdraw(self.path)
        self.path = None
        if state == "ready" and self.base_url:
            self.path = announce(self.directory, EngineRecord(os.getpid(), self.base_url, self.model, self.args))
        self.on_state(state)


def _attach_bundled_engine(router: BackendRouter, settings: Settings, progress: EngineProgress,
                           run_task: RunTask, *, announce: bool) -> None:
    from lsp_server.backends.engine_registry import registry_dir
    from lsp_server.backends.openai_compat import OpenAICompatBackend
    from lsp_server.backends.vllm_supervisor import VllmSupervisor, check_environment

    vllm = settings.backend.vllm
    python = vllm.python or sys.executable
    problem = check_environment(python)
    args = _engine_args(settings)
    announcer = EngineAnnouncer(registry_dir(settings.cache_dir), router.vllm_model, args, progress.state_changed)
    supervisor = VllmSupervisor(router.vllm_model, args, python=python, on_progress=progress.report,
                                on_state=announcer.state_changed if announce else progress.state_changed,
                                health_timeout_s=vllm.startup_timeout_s)
    announcer.base_url = supervisor.base_url
    router.supervisor = supervisor
    router.local = OpenAICompatBackend("vllm", supervisor.base_url, None, settings.backend.timeout_ms / 1000)
    if problem:
        router.engine_problem = problem
        log.warning("bundled engine unavailable: %s", problem)
        return
    run_task(supervisor.start(), "start bundled vLLM")


class EngineProgress:
    """Report the engine's startup through $/progress (when the client supports it) and the log."""

    def __init__(self, client: Client, on_state: Callable[[str], None]) -> None:
        self.client = client
        self.on_state = on_state
        self.token: str | None = None

    def report(self, message: str, percent: int | None) -> None:
        log.info("bundled engine: %s", message)
        if not self.client.shows_progress:
            return
        if self.token is None:
            self.token = f"ghostwriter-engine-{uuid.uuid4().hex[:8]}"
            self.client.progress.create(self.token)
            self.client.progress.begin(self.token, types.WorkDoneProgressBegin(
                title="Ghostwriter: starting vLLM", message=message, percentage=percent, cancellable=False))
        else:
            self.client.progress.report(self.token, types.WorkDoneProgressReport(
                message=message, percentage=percent))

    def state_changed(self, state: str) -> None:
        log.info("bundled engine state: %s", state)
        if state in ("ready", "failed", "stopped") and self.token is not None:
            self.client.progress.end(self.token, types.WorkDoneProgressEnd(message=state))
            self.token = None
        self.on_state(state)


def estimate_tokens_for(settings: Settings) -> Callable[[str, str], int]:
    """Token estimate for budgets: the real tokenizer where one is found, else the calibrated estimate."""
    from context.tokens import counter_for  # cached per (model, path): no cache of our own needed

    def estimate(model: str, text: str) -> int:
        return int(counter_for(model, settings.completion.tokenizer or None).count(text))

    return estimate
