"""The fake server's script: rules matched in order, and the response bodies they produce.

A rule is plain JSON so the same format works in-thread, in a `--script` file and through
`POST /_control/rules`:

    {"contains": "def add", "reply": "return a + b", "chunks": ["return", " a + b"],
     "delay_ms": 50, "chunk_delay_ms": 10, "usage": {"prompt_tokens": 900, "cached_tokens": 768}}
    {"status": 429, "error_message": "slow down", "times": 1}
    {"reply": "pass"}                              # no condition: the default

Conditions (all optional, all must hold): `contains` (substring of the prompt or the last chat
message), `endpoint` ("completions" | "chat"), `model`. `times` limits how often a rule fires.

The reply streams whole whatever the request's `stop` says, like endpoints that ignore `stop`; the
usage chunk (asked for with `stream_options.include_usage`) comes after it, `usage_delay_ms` later,
or never with `"send_usage": false`.
"""

from __future__ import annotations

import dataclasses
import re
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_ERROR_TYPES = {
    400: "BadRequestError",
    401: "invalid_request_error",
    403: "permission_denied",
    404: "NotFoundError",
    429: "rate_limit_exceeded",
}


@dataclass
class Rule:
    contains: str | None = None
    endpoint: str | None = None
    model: str | None = None
    reply: str = ""
    chunks: list[str] | None = None  # explicit stream pieces; default: word by word
    chunk_chars: int | None = None  # or fixed-size pieces
    delay_ms: float = 0.0  # before the first byte
    chunk_delay_ms: float = 0.0  # between stream pieces
    status: int = 200  # non-200 answers with an OpenAI-style error body
    error_message: str | None = None
    usage: dict[str, int] = field(default_factory=dict)  # prompt_tokens, cached_tokens, completion_tokens
    finish_reason: str = "stop"
    times: int | None = None  # fire at most this many times, then fall through
    abort_after_chunks: int | None = None  # drop the connection mid-stream (a crashing server)
    retry_after_s: float | None = None  # with an error status: the Retry-After header to send
    send_usage: bool = True  # False: no usage chunk even when the request asks for one
    usage_delay_ms: float = 0.0  # pause between the last text chunk and the usage chunk

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown rule keys: {sorted(unknown)}")
        return cls(**data)

    def matches(self, endpoint: str, body: Mapping[str, Any]) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.endpoint is not None and self.endpoint != endpoint:
            return False
        if self.model is not None and self.model != body.get("model"):
            return False
        return self.contains is None or self.contains in match_text(body)

    # -- bodies ----------------------------------------------------------------------------------
    def error_body(self) -> dict[str, Any]:
        message = self.error_message or f"scripted error {self.status}"
        kind = _ERROR_TYPES.get(self.status, "InternalServerError")
        return {"error": {"message": message, "type": kind, "param": None, "code": self.status}}

    def usage_body(self, prompt: str) -> dict[str, Any]:
        prompt_tokens = self.usage.get("prompt_tokens", len(prompt) // 4)
        completion_tokens = self.usage.get("completion_tokens", max(1, len(self.reply) // 4))
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": self.usage.get("cached_tokens", 0)},
        }

    def full_response(self, endpoint: str, body: Mapping[str, Any], prompt: str) -> dict[str, Any]:
        if endpoint == "chat":
            choice: dict[str, Any] = {"message": {"role": "assistant", "content": self.reply}}
        else:
            choice = {"text": self.reply, "logprobs": None}
        choice.update(index=0, finish_reason=self.finish_reason)
        return {**_envelope(endpoint, body, stream=False), "choices": [choice], "usage": self.usage_body(prompt)}

    def stream_chunk(self, endpoint: str, body: Mapping[str, Any], piece: str, finish: str | None) -> dict[str, Any]:
        if endpoint == "chat":
            choice: dict[str, Any] = {"delta": {"role": "assistant", "content": piece}}
        else:
            choice = {"text": piece, "logprobs": None}
        choice.update(index=0, finish_reason=finish)
        return {**_envelope(endpoint, body, stream=True), "choices": [choice]}

    def usage_chunk(self, endpoint: str, body: Mapping[str, Any], prompt: str) -> dict[str, Any]:
        return {**_envelope(endpoint, body, stream=True), "choices": [], "usage": self.usage_body(prompt)}


def split_reply(rule: Rule) -> list[str]:
    """Stream pieces; always at least one so the finish_reason has a chunk to ride on."""
    if rule.chunks is not None:
        pieces = list(rule.chunks)
    elif rule.chunk_chars:
        pieces = [rule.reply[i : i + rule.chunk_chars] for i in range(0, len(rule.reply), rule.chunk_chars)]
    else:
        pieces = re.findall(r"\s*\S+|\s+", rule.reply)
    return pieces or [""]


def _envelope(endpoint: str, body: Mapping[str, Any], *, stream: bool) -> dict[str, Any]:
    if endpoint == "chat":
        obj = "chat.completion.chunk" if stream else "chat.completion"
    else:
        obj = "text_completion"
    return {"id": "fake-1", "object": obj, "created": int(time.time()), "model": body.get("model", "")}


def _content(message: Mapping[str, Any]) -> str:
    content = message.get("content") or ""
    if isinstance(content, list):  # content parts
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return str(content)


def match_text(body: Mapping[str, Any]) -> str:
    """What `contains` looks at: the raw prompt, or the last chat message."""
    messages = body.get("messages")
    if messages:
        return _content(messages[-1])
    prompt = body.get("prompt", "")
    return "".join(prompt) if isinstance(prompt, list) else str(prompt)


def prompt_text(body: Mapping[str, Any]) -> str:
    """All prompt text, for the default token counts."""
    messages = body.get("messages")
    if messages:
        return "".join(_content(m) for m in messages)
    return match_text(body)


@dataclass
class Script:
    rules: list[Rule]
    models: list[str]
    tokenize: bool = True
    zero_latency: bool = False

    def match(self, endpoint: str, body: Mapping[str, Any]) -> Rule:
        """First matching rule (consuming one of its `times`); an empty reply when none does."""
        for rule in self.rules:
            if rule.matches(endpoint, body):
                if rule.times is not None:
                    rule.times -= 1
                return rule
        return Rule()

    def models_body(self) -> dict[str, Any]:
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
        return {"object": "list", "data": data}

    @staticmethod
    def tokenize_ids(text: str) -> list[int]:
        # Deterministic pseudo-tokens of about 4 characters, like the len//4 usage estimate.
        return [zlib.crc32(p.encode()) % 50_000 for p in re.findall(r"\s*\S{1,4}|\s+", text)]
