"""Streaming `/completions` (the FIM call) straight over httpx, the transport the openai SDK uses.

The inline-completion call is the one request on the keystroke path, and the SDK's generic
machinery costs it ~1.7 ms of CPU per call on a 2-core machine (measured against a loopback
endpoint): a recursive transform of the parameters before sending, and a pydantic model built
for every streamed event. That is most of the server's whole overhead budget, for a request
whose shape never changes. So this one call posts prebuilt JSON and reads the server-sent
events itself; failures are raised as the SDK's own exception types, so the backend keeps one
error translation. Chat, model listing and tokenisation stay on the SDK.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import httpx2
import openai

STATUS_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    409: openai.ConflictError,
    422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
}


def new_client(api_key: str, timeout_s: float, default_headers: Mapping[str, str]) -> httpx2.AsyncClient:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json",
               "Accept": "text/event-stream", **default_headers}
    return httpx2.AsyncClient(headers=headers, timeout=timeout_s)


async def stream_events(client: httpx2.AsyncClient, url: str,
                        body: Mapping[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
    """POST `body` and yield each event's JSON; raises openai.APIError subclasses on failure."""
    request = client.build_request("POST", url, content=json.dumps(body).encode())
    try:
        response = await client.send(request, stream=True)
    except httpx2.TimeoutException as exc:
        raise openai.APITimeoutError(request=request) from exc
    except httpx2.TransportError as exc:
        raise openai.APIConnectionError(request=request) from exc
    try:
        if response.status_code >= 400:
            await response.aread()
            raise status_error(response)
        done = False
        async for line in response.aiter_lines():
            event = None if done else parse_event_line(line, request)
            if event is DONE:
                # Read on to the end of the body (it ends right after): only a fully read
                # response hands its keep-alive connection back for the next keystroke.
                done = True
            elif event is not None:
                yield event
    except httpx2.TimeoutException as exc:
        raise openai.APITimeoutError(request=request) from exc
    except httpx2.TransportError as exc:
        raise StreamDropped(request=request) from exc
    finally:
        await response.aclose()


class StreamDropped(openai.APIConnectionError):
    """The server answered, then the connection broke mid-stream (it is reachable; it may have crashed)."""


DONE: dict[str, Any] = {}


def parse_event_line(line: str, request: httpx2.Request) -> dict[str, Any] | None:
    """One line of a server-sent-event stream: an event's JSON, DONE, or None for anything else."""
    if not line.startswith("data:"):
        return None  # comments, `event:` fields, blank separators
    data = line[5:].strip()
    if data == "[DONE]":
        return DONE
    try:
        event = json.loads(data)
    except json.JSONDecodeError as exc:
        raise openai.APIError(f"malformed event from the server: {data[:200]}", request, body=None) from exc
    if not isinstance(event, dict):
        return None
    if event.get("error"):  # an error reported inside an otherwise healthy stream
        error = event["error"]
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise openai.APIError(str(message or "error event in the stream"), request, body=event)
    return event


def status_error(response: httpx2.Response) -> openai.APIStatusError:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text or None
    data = body.get("error", body) if isinstance(body, dict) else body
    message = data.get("message") if isinstance(data, dict) else None
    text = f"Error code: {response.status_code} - {message or body}"
    kind = STATUS_ERRORS.get(response.status_code)
    if kind is None:
        kind = openai.InternalServerError if response.status_code >= 500 else openai.APIStatusError
    return kind(text, response=response, body=data)


def chunk_fields(event: Mapping[str, Any]) -> tuple[str, str | None, Mapping[str, Any] | None]:
    """(text, finish reason, usage) of one completion event."""
    choices = event.get("choices") or []
    text, finish = "", None
    if choices and isinstance(choices[0], dict):
        text = choices[0].get("text") or ""
        finish = choices[0].get("finish_reason")
    usage = event.get("usage")
    return text, finish, usage if isinstance(usage, dict) else None
