"""The small interface every backend implements, and the factory that picks one.

Both backends speak the OpenAI-compatible protocol: the remote endpoint directly, the bundled
vLLM through a supervisor that starts the engine and hands over its local base URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Message = Mapping[str, Any]


def server_root(base_url: str) -> str:
    """`http://host:port/v1` → `http://host:port`: where vLLM serves /tokenize and /metrics."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


@dataclass(frozen=True)
class GenerationRequest:
    """Everything that decides a model's output (and so the cache key), plus call policy."""

    feature: str
    model: str
    prompt: str | None = None
    messages: tuple[Message, ...] = ()
    max_tokens: int = 128
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    # Only explicit, user-asked requests retry; a completion the user typed past must not.
    retry: bool = False
    # The file the request is about (URI or path) and the files its cross-file context came from:
    # the pipeline applies `privacy.rules` to them before anything is sent. Not part of the cache key.
    source: str = ""
    context_sources: tuple[str, ...] = ()

    @property
    def is_chat(self) -> bool:
        return self.prompt is None


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    # True when the backend reported nothing and the counts are our estimate.
    estimated: bool = False


@dataclass
class Chunk:
    text: str
    usage: Usage | None = None
    finish_reason: str | None = None


class Backend(Protocol):
    name: str

    def stream(self, request: GenerationRequest) -> AsyncIterator[Chunk]:
        """Stream the generation; closing the iterator aborts the HTTP request."""
        ...

    async def list_models(self) -> list[str]: ...

    async def tokenize(self, model: str, text: str) -> list[int] | None:
        """Token ids from the serving engine (vLLM's /tokenize), or None where unsupported."""
        ...

    async def aclose(self) -> None: ...
