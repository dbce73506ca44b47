"""Decide which backend serves each request: the remote endpoint or the bundled engine.

The bundled engine takes minutes to start; meanwhile requests go to the remote endpoint when
one is configured (and allowed), and are otherwise refused at once with a clear reason, so
no editor request hangs on a model that is still loading.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from lsp_server.backends import Backend
from lsp_server.errors import BackendError, BackendStarting, BackendUnavailable
from lsp_server.settings import Settings

log = logging.getLogger("ghostwriter.backends")

DEFAULT_VLLM_MODEL = "Qwen/Qwen2.5-Coder-1.5B"

NO_BACKEND_MESSAGE = (
    "No model backend is configured. Set ghostwriter.backend.baseUrl (or the environment variable "
    "GHOSTWRITER_BASE_URL, e.g. http://127.0.0.1:11434/v1 for Ollama or "
    "https://dashscope-intl.aliyuncs.com/compatible-mode/v1 for DashScope) and ghostwriter.backend.model "
    "(GHOSTWRITER_MODEL); for a hosted API also set ghostwriter.backend.apiKeyEnv (GHOSTWRITER_API_KEY_ENV) "
    "to the name of the variable holding the key. On a machine with a CUDA GPU, install 'ghostwriter[vllm]' "
    "to use the bundled engine."
)


def cuda_gpu_present() -> bool:
    """Cheap check that never imports torch into the server process."""
    return Path("/proc/driver/nvidia/gpus").is_dir() or shutil.which("nvidia-smi") is not None


def effective_kind(settings: Settings, gpu_present: Callable[[], bool] = cuda_gpu_present) -> str:
    kind = settings.backend.kind
    if kind != "auto":
        return kind
    if settings.backend.base_url:
        return "openai"
    return "vllm" if gpu_present() else "none"


class BackendRouter:
    def __init__(self, settings: Settings, *, kind: str, remote: Backend | None, local: Backend | None = None,
                 supervisor: object | None = None) -> None:
        self.settings = settings
        self.kind = kind
        self.remote = remote
        self.local = local
        self.supervisor = supervisor
        self.engine_problem = ""
        """Why the bundled engine cannot start at all (no vLLM, no GPU), in plain words."""

    def current(self) -> tuple[Backend, bool]:
        if self.kind == "vllm":
            return self._bundled()
        if self.remote is None:
            raise BackendUnavailable(NO_BACKEND_MESSAGE)
        return self.remote, False

    def _bundled(self) -> tuple[Backend, bool]:
        state = getattr(self.supervisor, "state", "stopped")
        if state == "ready" and self.local is not None:
            return self.local, True
        if self.remote is not None and self.settings.backend.vllm.fallback_to_remote:
            return self.remote, False
        reason = self.engine_problem or getattr(self.supervisor, "last_error", "") or ""
        if state == "failed" or self.engine_problem:
            raise BackendUnavailable(f"The bundled vLLM engine failed: {reason}".strip())
        raise BackendStarting("The bundled vLLM engine is still starting; completions begin when it is ready.")

    def model_for(self, feature: str) -> str:
        """The model name to send: the served name for the bundled engine."""
        if self.kind == "vllm" and getattr(self.supervisor, "state", "") == "ready":
            return self.vllm_model
        if feature == "completion":
            return self.settings.completion_model
        return self.settings.backend.model or self.settings.completion_model

    @property
    def vllm_model(self) -> str:
        return self.settings.backend.vllm.model or DEFAULT_VLLM_MODEL

    def describe(self) -> str:
        if self.kind == "vllm":
            return f"bundled vLLM ({self.vllm_model}, {getattr(self.supervisor, 'state', 'stopped')})"
        if self.remote is not None:
            return f"{self.settings.backend.base_url} ({self.settings.completion_model or 'no model set'})"
        return "none"

    async def aclose(self) -> None:
        for backend in (self.remote, self.local):
            if backend is not None:
                try:
                    await backend.aclose()
                except BackendError:
                    pass
        stop = getattr(self.supervisor, "stop", None)
        if stop is not None:
            await stop()
