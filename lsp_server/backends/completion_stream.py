"""Streaming `/completions` (the FIM call) over aiohttp, with the openai SDK's error types.

The inline-completion call is the one request on the keystroke path, so its client cost is
the server's overhead. Measured per call against a loopback endpoint on a 2-core machine:
the SDK's generic machinery (a recursive transform of the parameters, a pydantic model per
streamed event) cost ~1.7 ms; httpx alone, with prebuilt JSON, still ~0.9 ms more than aiohttp,
whose HTTP parser is compiled. So this one call posts prebuilt JSON through a keep-alive
aiohttp session and reads the server-sent events itself. Failures are raised as the SDK's own
exception types, so the backend keeps one error translation. Chat, model listing and
tokenisation stay on the SDK.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.parse
import urllib.request
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import aiohttp
import httpx2
import openai


class CompletionStreamClient:
    """One keep-alive session for the FIM stream.

    The session is made on first use, inside the running event loop, because aiohttp binds a
    session to the loop that made it; a backend may be built before the loop runs.
    """

    def __init__(self, api_key: str, timeout_s: float, default_headers: Mapping[str, str],
                 base_url: str = "") -> None:
        self._headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json",
                         "Accept": "text/event-stream", **default_headers}
        # Like the SDK: the timeout bounds connecting and each wait for data, not a whole answer.
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout_s, sock_read=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._proxies: dict[str, str | None] = {}
        # TLS trusts what the SDK's own client trusts (SSL_CERT_FILE/DIR, the OS store), not
        # aiohttp's default; built now (~60 ms), not on the first keystroke.
        self._tls: ssl.SSLContext | None = httpx2.create_ssl_context() if base_url.startswith("https:") else None

    def _current_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
            self._session_loop = loop
        return self._session

    async def events(self, url: str, body: Mapping[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        """POST `body` and yield each event's JSON; raises openai.APIError subclasses on failure."""
        try:
            response = await self._current_session().post(url, data=json.dumps(body).encode(),
                                                           proxy=self._proxy_for(url), ssl=self._tls_for(url))
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise openai.APITimeoutError(request=_request(url)) from exc
        except aiohttp.ClientError as exc:
            raise openai.APIConnectionError(message=str(exc) or "Connection error.", request=_request(url)) from exc
        try:
            if response.status >= 400:
                raise status_error(response.status, await response.read(), url)
            done = False
            # Read on to the end of the body even after [DONE] (it ends right after): only a fully
            # read response hands its keep-alive connection back for the next keystroke.
            async for line in response.content:
                event = None if done else parse_event_line(line, url)
                if event is DONE:
                    done = True
                elif event is not None:
                    yield event
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise openai.APITimeoutError(request=_request(url)) from exc
        except aiohttp.ClientError as exc:
            raise StreamDropped(request=_request(url)) from exc
        finally:
            # An unfinished body closes the connection, which is how the engine learns to abort.
            response.release()

    def _proxy_for(self, url: str) -> str | None:
        # Honour HTTP(S)_PROXY / NO_PROXY as the SDK's client does, but look them up once per URL:
        # aiohttp's own per-request lookup (trust_env) costs ~0.75 ms a call.
        if url not in self._proxies:
            self._proxies[url] = env_proxy(url)
        return self._proxies[url]

    def _tls_for(self, url: str) -> ssl.SSLContext | bool:
        if not url.startswith("https:"):
            return True  # (aiohttp's "default"; plain HTTP uses no TLS anyway)
        if self._tls is None:
            self._tls = httpx2.create_ssl_context()
        return self._tls

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for `url`, or None (no proxy set, or NO_PROXY covers it)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    # Loopback (the bundled engine, a local Ollama) never goes through a proxy.
    if host in ("localhost", "127.0.0.1", "::1") or urllib.request.proxy_bypass(host):
        return None
    return urllib.request.getproxies().get(parts.scheme)


class StreamDropped(openai.APIConnectionError):
    """The server answered, then the connection broke mid-stream (it is reachable; it may have crashed)."""


DONE: dict[str, Any] = {}


def parse_event_line(line: bytes | str, url: str) -> dict[str, Any] | None:
    """One line of a server-sent-event stream: an event's JSON, DONE, or None for anything else."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    if not line.startswith("data:"):
        return None  # comments, `event:` fields, blank separators
    data = line[5:].strip()
    if data == "[DONE]":
        return DONE
    try:
        event = json.loads(data)
    except json.JSONDecodeError as exc:
        raise openai.APIError(f"malformed event from the server: {data[:200]}", _request(url), body=None) from exc
    if not isinstance(event, dict):  # an array or a bare value: not an event of this API at all
        raise openai.APIError(f"malformed event from the server: {data[:200]}", _request(url), body=None)
    if event.get("error"):  # an error reported inside an otherwise healthy stream
        error = event["error"]
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise openai.APIError(str(message or "error event in the stream"), _request(url), body=event)
    return event


def status_error(status: int, content: bytes, url: str) -> openai.APIStatusError:
    """An HTTP error answer as the SDK's status error, carrying the server's message.

    One class for every status: the backend maps errors by `status_code`, for this path and the
    SDK's alike.
    """
    response = httpx2.Response(status, content=content, request=_request(url))
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text or None
    data = body.get("error", body) if isinstance(body, dict) else body
    message = data.get("message") if isinstance(data, dict) else None
    text = f"Error code: {status} - {message or body}"
    return openai.APIStatusError(text, response=response, body=data)


def _request(url: str) -> httpx2.Request:
    # The SDK's exceptions carry the request; built only when something failed.
    return httpx2.Request("POST", url)


def chunk_fields(event: Mapping[str, Any]) -> tuple[str, str | None, Mapping[str, Any] | None]:
    """(text, finish reason, usage) of one completion event; TypeError for an event of another shape."""
    choices = event.get("choices") or []
    if not isinstance(choices, list) or not all(isinstance(choice, dict) for choice in choices):
        raise TypeError(f"'choices' is not a list of objects: {str(choices)[:100]}")
    text, finish = "", None
    if choices:
        text = choices[0].get("text") or ""
        finish = choices[0].get("finish_reason")
        if not isinstance(text, str) or not (finish is None or isinstance(finish, str)):
            raise TypeError(f"a choice of the wrong shape: {str(choices[0])[:100]}")
    usage = event.get("usage")
    return text, finish, usage if isinstance(usage, dict) else None
