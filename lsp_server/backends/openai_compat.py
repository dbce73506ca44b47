"""The OpenAI-compatible backend: one AsyncOpenAI client, streaming completions and chat with usage.

Both the remote endpoint and the bundled vLLM are reached through this class. Automatic requests
(ghost text on a keystroke) are never retried: they are latency-bound, the editor asks again
anyway, and the FIM stream takes a lean path of its own (completion_stream.py). Requests marked
`retry` (explicit, user-asked ones) go through the SDK with its bounded retries, which honour the
server's Retry-After; the SDK retries opening a stream, never once text has reached the caller.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any

import openai

from lsp_server.backends import Chunk, GenerationRequest, Usage, completion_stream, server_root
from lsp_server.backends.completion_stream import StreamDropped
from lsp_server.errors import (
    BackendAuthError,
    BackendBadRequest,
    BackendError,
    BackendRateLimited,
    BackendServerError,
    BackendTimeout,
    BackendUnavailable,
)

log = logging.getLogger(__name__)


# Attempts after the first for an explicit request; the SDK backs off (0.5 s, doubling, capped)
# or waits what the server's Retry-After asks, up to a minute.
EXPLICIT_RETRIES = 2


class OpenAICompatBackend:
    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str | None,
        timeout_s: float,
        default_headers: Mapping[str, str] | None = None,
        *,
        api_key_source: str = "the settings",
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        # Where the key came from ("$DASHSCOPE_API_KEY"), so messages can name it without showing it.
        self._key_source = api_key_source
        self._secret = api_key or ""
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=api_key or "not-needed",
            max_retries=0,
            timeout=timeout_s,
            default_headers=dict(default_headers or {}),
        )
        self._retrying = self._client.with_options(max_retries=EXPLICIT_RETRIES)
        # The FIM call on the keystroke path skips the SDK's per-call machinery (see completion_stream).
        self._http = completion_stream.CompletionStreamClient(
            api_key or "not-needed", timeout_s, dict(default_headers or {}), self.base_url)
        self._tokenize_supported = True

    # -- generation ------------------------------------------------------------------------------
    async def stream(self, request: GenerationRequest) -> AsyncIterator[Chunk]:
        # aclosing: closing us must close the inner generator (and so the HTTP stream) now,
        # not whenever the garbage collector gets to it.
        async with aclosing(self._stream_once(request)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def _stream_once(self, request: GenerationRequest) -> AsyncGenerator[Chunk, None]:
        if request.prompt is not None and not request.retry:
            events = self._completion_events(request)
        else:
            events = self._sdk_events(request, self._retrying if request.retry else self._client)
        try:
            async for event in events:
                chunk = _chunk_from_json(event) if isinstance(event, dict) else _to_chunk(event)
                if chunk is not None:
                    yield chunk
        except (TypeError, AttributeError, ValueError) as exc:  # events of another shape, fields of a wrong type
            raise self._malformed(exc) from exc
        except StreamDropped as exc:
            raise self._dropped(exc) from exc
        except openai.APIError as exc:
            raise await self._translate(exc, request.model) from exc
        finally:
            await events.aclose()

    def _completion_events(self, request: GenerationRequest) -> AsyncGenerator[dict[str, Any], None]:
        body = {**self._common_params(request), "prompt": request.prompt, **dict(request.extra_body)}
        return self._http.events(f"{self.base_url}/completions", body)

    async def _sdk_events(self, request: GenerationRequest, client: openai.AsyncOpenAI) -> AsyncGenerator[Any, None]:
        extra_body = dict(request.extra_body) or None
        stream: Any
        if request.prompt is not None:
            stream = await client.completions.create(prompt=request.prompt, extra_body=extra_body,
                                                     **self._common_params(request))
        else:
            messages: Any = [dict(m) for m in request.messages]
            stream = await client.chat.completions.create(messages=messages, extra_body=extra_body,
                                                          **self._common_params(request))
        try:
            async for event in stream:
                yield event
        except openai.APIConnectionError as exc:
            if isinstance(exc, openai.APITimeoutError):
                raise
            raise StreamDropped(request=exc.request) from exc  # the open succeeded: it broke mid-answer
        finally:
            await stream.close()

    @staticmethod
    def _common_params(request: GenerationRequest) -> dict[str, Any]:
        params: dict[str, Any] = {"model": request.model, "max_tokens": request.max_tokens,
                                  "temperature": request.temperature, "stream": True,
                                  "stream_options": {"include_usage": True}}
        if request.stop:
            params["stop"] = list(request.stop)
        return params

    def _dropped(self, exc: openai.APIConnectionError) -> BackendServerError:
        # The server answered, so it is reachable: it went away while streaming.
        if self.name == "vllm":  # its URL is an address the user never chose; the supervisor restarts it
            message = "The bundled vLLM engine stopped mid-answer; it is restarted if it crashed (see the server log)"
        else:
            message = f"{self.base_url} dropped the connection mid-answer; the server may have crashed"
        return BackendServerError(message, detail=self._scrub(repr(exc)))

    def _malformed(self, exc: Exception) -> BackendServerError:
        return BackendServerError(f"{self.base_url} sent an answer that is not an OpenAI-compatible stream",
                                  detail=self._scrub(repr(exc))[:300])

    # -- models and tokens -----------------------------------------------------------------------
    async def list_models(self) -> list[str]:
        try:
            page = await self._client.models.list()
        except openai.APIError as exc:
            raise await self._translate(exc, model=None) from exc
        return [model.id for model in page.data]

    async def tokenize(self, model: str, text: str) -> list[int] | None:
        """vLLM's /tokenize (at the server root, not under /v1); None wherever it is not offered."""
        if not self._tokenize_supported:
            return None
        try:
            body = await self._client.post(
                f"{server_root(self.base_url)}/tokenize", cast_to=object, body={"model": model, "prompt": text}
            )
        except (openai.NotFoundError, openai.PermissionDeniedError):
            # Hosted APIs have no such route; remember instead of asking on every keystroke.
            self._tokenize_supported = False
            return None
        except openai.APIError as exc:
            log.debug("tokenize failed: %s", self._scrub(str(exc)))
            return None
        tokens = body.get("tokens") if isinstance(body, dict) else None
        return [int(t) for t in tokens] if isinstance(tokens, list) else None

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._client.close()

    # -- errors ----------------------------------------------------------------------------------
    async def _translate(self, exc: openai.APIError, model: str | None) -> BackendError:
        """Turn an SDK exception into one a user can act on; the key never appears in either."""
        detail = self._scrub(f"{type(exc).__name__}: {exc}")
        url = self.base_url
        if isinstance(exc, openai.APITimeoutError):
            return BackendTimeout(
                f"{url} did not answer within {self.timeout_s:g} s; the server may be overloaded, "
                "or raise ghostwriter.backend.timeoutMs",
                detail=detail,
            )
        if isinstance(exc, openai.APIConnectionError):
            if self.name == "vllm":
                message = f"Cannot reach the bundled vLLM at {url} — it may have stopped; see the server log"
            else:
                message = f"Cannot reach {url} — is the server running? Check ghostwriter.backend.baseUrl"
            return BackendUnavailable(message, detail=detail)
        if not isinstance(exc, openai.APIStatusError):
            # An error event inside an otherwise healthy stream.
            return BackendServerError(f"{url} failed mid-answer: {self._server_says(exc)}", detail=detail)
        return await self._translate_status(exc, model, detail)

    async def _translate_status(self, exc: openai.APIStatusError, model: str | None, detail: str) -> BackendError:
        url, says, status = self.base_url, self._server_says(exc), exc.status_code
        if status == 401:
            if not self._secret:
                return BackendAuthError(
                    f"{url} needs an API key and none is set; name the variable holding it in "
                    "ghostwriter.backend.apiKeyEnv",
                    detail=detail,
                )
            return BackendAuthError(f"The endpoint rejected the API key from {self._key_source}", detail=detail)
        if status == 403:
            return BackendAuthError(
                f"The API key from {self._key_source} may not use model '{model}': {says}", detail=detail
            )
        if status == 429:
            return BackendRateLimited(f"{url} is rate-limiting requests: {says}", detail=detail)
        if status == 404:
            return BackendBadRequest(await self._not_found_message(model), detail=detail)
        if status >= 500:
            return BackendServerError(f"{url} failed (HTTP {status}): {says}", detail=detail)
        return BackendBadRequest(f"The endpoint rejected the request: {says}", detail=detail)

    async def _not_found_message(self, model: str | None) -> str:
        # A 404 is either an unknown model or a wrong base URL; the model list tells them apart.
        try:
            available = await self.list_models()
        except BackendError:
            return f"{self.base_url} answered 404 Not Found — does the base URL end in /v1?"
        if model is not None and model not in available:
            return f"Model '{model}' is not served here; available: {', '.join(available) or 'none'}"
        return f"{self.base_url} answered 404 Not Found for model '{model}'"

    def _server_says(self, exc: openai.APIError) -> str:
        body = exc.body
        if isinstance(body, dict):
            inner = body.get("error", body)
            message = inner.get("message") if isinstance(inner, dict) else None
            if message:
                return self._scrub(str(message))[:300]
        return self._scrub(exc.message)[:300]

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


def _to_chunk(event: Any) -> Chunk | None:
    """One SSE event of the SDK (completion or chat chunk) → Chunk; None for events carrying nothing."""
    text, finish = "", None
    if event.choices:
        choice = event.choices[0]
        finish = choice.finish_reason
        delta = getattr(choice, "delta", None)
        text = (delta.content if delta is not None else choice.text) or ""
    return _chunk(text, finish, _usage(getattr(event, "usage", None)))


def _chunk_from_json(event: Mapping[str, Any]) -> Chunk | None:
    """One completion event read as JSON (the FIM path) → Chunk; None for events carrying nothing."""
    text, finish, raw_usage = completion_stream.chunk_fields(event)
    return _chunk(text, finish, _usage(raw_usage))


def _chunk(text: str, finish: str | None, usage: Usage | None) -> Chunk | None:
    if not text and finish is None and usage is None:
        return None
    return Chunk(text=text, usage=usage, finish_reason=finish)


def _usage(raw: Any) -> Usage | None:
    """Usage from the SDK's model or from the event's JSON mapping alike."""
    if raw is None:
        return None
    details = _field(raw, "prompt_tokens_details")
    cached = _field(details, "cached_tokens") if details is not None else None
    return Usage(
        prompt_tokens=int(_field(raw, "prompt_tokens") or 0),
        completion_tokens=int(_field(raw, "completion_tokens") or 0),
        cached_tokens=int(cached or 0),
    )


def _field(source: Any, name: str) -> Any:
    return source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)
