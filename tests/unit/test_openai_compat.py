"""OpenAICompatBackend against the loopback fake: streaming, usage, errors, retries, cancellation."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing

import pytest
from openai.types import CompletionUsage

from lsp_server.backends import Chunk, GenerationRequest
from lsp_server.backends.openai_compat import OpenAICompatBackend, _usage
from lsp_server.errors import (
    BackendAuthError,
    BackendBadRequest,
    BackendRateLimited,
    BackendServerError,
    BackendTimeout,
    BackendUnavailable,
)
from tests.fakes import FakeOpenAIServer, Rule

SECRET = "sk-test-secret-123"


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(models=["coder", "chatter"]) as server:
        yield server


@pytest.fixture
async def backend(fake: FakeOpenAIServer) -> AsyncIterator[OpenAICompatBackend]:
    b = OpenAICompatBackend("openai", fake.url, SECRET, 2.0, api_key_source="$TEST_API_KEY")
    yield b
    await b.aclose()


def fim(prompt: str = "def add(a, b):", **kw: object) -> GenerationRequest:
    return GenerationRequest(feature="completion", model="coder", prompt=prompt, **kw)  # type: ignore[arg-type]


async def collect(backend: OpenAICompatBackend, request: GenerationRequest) -> list[Chunk]:
    return [chunk async for chunk in backend.stream(request)]


async def test_completion_streams_text_and_usage_with_cached_tokens(fake, backend) -> None:
    fake.set_rules([Rule(reply="\n    return a + b", usage={"prompt_tokens": 120, "cached_tokens": 96})])
    chunks = await collect(backend, fim(stop=("\ndef",), extra_body={"top_k": 1}))
    assert "".join(c.text for c in chunks) == "\n    return a + b"
    assert chunks[-2].finish_reason == "stop"
    usage = chunks[-1].usage
    assert usage is not None and (usage.prompt_tokens, usage.cached_tokens, usage.estimated) == (120, 96, False)
    [entry] = fake.requests
    assert entry.path == "/v1/completions"
    assert entry.body["stream_options"] == {"include_usage": True}
    assert (entry.body["stop"], entry.body["top_k"], entry.body["max_tokens"]) == (["\ndef"], 1, 128)


async def test_chat_streams_text_and_usage(fake, backend) -> None:
    fake.set_rules([Rule(endpoint="chat", contains="Explain", reply="It adds two numbers.")])
    request = GenerationRequest(
        feature="hover",
        model="chatter",
        messages=({"role": "system", "content": "Be brief."}, {"role": "user", "content": "Explain add"}),
        extra_body={"chat_template_kwargs": {"enable_thinking": False}},
    )
    chunks = await collect(backend, request)
    assert "".join(c.text for c in chunks) == "It adds two numbers."
    assert chunks[-1].usage is not None and chunks[-1].usage.cached_tokens == 0
    body = fake.requests[0].body
    assert fake.requests[0].path == "/v1/chat/completions"
    assert body["chat_template_kwargs"] == {"enable_thinking": False} and len(body["messages"]) == 2


def test_usage_without_prompt_details_counts_no_cached_tokens() -> None:
    usage = _usage(CompletionUsage(prompt_tokens=5, completion_tokens=2, total_tokens=7))
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (5, 2, 0)


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (500, BackendServerError, "HTTP 500"),
        (401, BackendAuthError, "rejected the API key from $TEST_API_KEY"),
        (429, BackendRateLimited, "rate-limiting"),
        (400, BackendBadRequest, "maximum context length"),
    ],
)
async def test_status_errors_map_to_actionable_errors(fake, backend, status, error, words) -> None:
    message = f"maximum context length exceeded {SECRET}" if status == 400 else "nope"
    fake.set_rules([Rule(status=status, error_message=message)])
    with pytest.raises(error) as caught:
        await collect(backend, fim())
    assert words in caught.value.user_message
    assert SECRET not in caught.value.user_message and SECRET not in caught.value.detail


async def test_unknown_model_lists_the_served_ones(fake, backend) -> None:
    fake.set_rules([Rule(status=404, error_message="The model `gpt-x` does not exist.")])
    with pytest.raises(BackendBadRequest, match="Model 'gpt-x' is not served here; available: coder, chatter"):
        await collect(backend, GenerationRequest(feature="completion", model="gpt-x", prompt="x"))


async def test_dead_port_is_unavailable_with_the_url() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    backend = OpenAICompatBackend("openai", url, None, 1.0)
    with pytest.raises(BackendUnavailable) as caught:
        await collect(backend, fim())
    assert url in caught.value.user_message and caught.value.retryable
    assert await backend.tokenize("coder", "x") is None
    await backend.aclose()


async def test_slow_server_times_out(fake) -> None:
    fake.set_rules([Rule(reply="late", delay_ms=1000)])
    backend = OpenAICompatBackend("openai", fake.url, None, 0.2)
    with pytest.raises(BackendTimeout, match="did not answer within 0.2 s"):
        await collect(backend, fim())
    await backend.aclose()


async def test_retry_only_when_the_request_asks(fake, backend) -> None:
    fake.set_rules([Rule(status=500, times=2), Rule(reply="ok")])
    assert "".join(c.text for c in await collect(backend, fim(retry=True))) == "ok"
    assert len(fake.requests) == 3
    fake.clear()
    fake.set_rules([Rule(status=503, times=1), Rule(reply="ok")])
    with pytest.raises(BackendServerError):
        await collect(backend, fim())
    assert len(fake.requests) == 1


async def test_explicit_requests_wait_what_retry_after_asks(fake, backend) -> None:
    fake.set_rules([Rule(status=429, times=1, retry_after_s=1.2), Rule(reply="ok")])
    began = time.monotonic()
    assert "".join(c.text for c in await collect(backend, fim(retry=True))) == "ok"
    assert time.monotonic() - began >= 1.1  # the server's wait, not the SDK's 0.5 s first backoff
    assert len(fake.requests) == 2


async def test_retries_are_bounded(fake, backend) -> None:
    fake.set_rules([Rule(status=503)])
    with pytest.raises(BackendServerError):
        await collect(backend, fim(retry=True))
    assert len(fake.requests) == 3  # the first try and two retries


async def test_no_retry_for_auth_errors_or_after_text_was_streamed(fake, backend) -> None:
    fake.set_rules([Rule(status=401)])
    with pytest.raises(BackendAuthError):
        await collect(backend, fim(retry=True))
    assert len(fake.requests) == 1
    fake.clear()
    fake.set_rules([Rule(reply="one two three", abort_after_chunks=1)])
    received: list[str] = []
    with pytest.raises(BackendServerError, match="dropped the connection mid-answer"):
        async for chunk in backend.stream(fim(retry=True)):
            received.append(chunk.text)
    assert received == ["one"] and len(fake.requests) == 1


async def test_closing_the_stream_disconnects_from_the_server(fake, backend) -> None:
    fake.set_rules([Rule(reply=" ".join(["tok"] * 200), chunk_delay_ms=10)])
    async with aclosing(backend.stream(fim())) as stream:
        async for chunk in stream:
            assert chunk.text == "tok"
            break
    assert await asyncio.to_thread(fake.wait_for_disconnect, 3.0)


async def test_cancelling_the_consumer_disconnects_before_the_first_byte(fake, backend) -> None:
    fake.set_rules([Rule(reply="never", delay_ms=3000)])
    task = asyncio.create_task(collect(backend, fim()))
    await asyncio.to_thread(fake.wait_for_requests, 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(fake.wait_for_disconnect, 3.0)


async def test_list_models_and_tokenize(fake, backend) -> None:
    assert await backend.list_models() == ["coder", "chatter"]
    tokens = await backend.tokenize("coder", "def add(a, b): return a + b")
    assert tokens and all(isinstance(t, int) for t in tokens)
    assert fake.requests[-1].path == "/tokenize"


async def test_tokenize_unsupported_is_remembered(fake, backend) -> None:
    fake.script.tokenize = False
    assert await backend.tokenize("coder", "x") is None
    assert await backend.tokenize("coder", "y") is None
    assert [r.path for r in fake.requests] == ["/tokenize"]


async def test_missing_key_points_at_the_setting(fake) -> None:
    fake.set_rules([Rule(status=401)])
    backend = OpenAICompatBackend("openai", fake.url, None, 2.0)
    with pytest.raises(BackendAuthError, match="ghostwriter.backend.apiKeyEnv"):
        await collect(backend, fim())
    await backend.aclose()


@pytest.mark.parametrize("request_", [fim(), GenerationRequest(feature="hover", model="chatter",
                                                               messages=({"role": "user", "content": "hi"},))])
async def test_a_stream_that_breaks_mid_answer_says_so(fake, backend, request_) -> None:
    fake.set_rules([Rule(reply="a b c d e f", chunk_chars=2, abort_after_chunks=2)])
    with pytest.raises(BackendServerError, match="dropped the connection mid-answer"):
        await collect(backend, request_)


async def test_fim_calls_send_the_key_and_headers_and_reuse_one_connection(fake) -> None:
    fake.set_rules([Rule(reply="return a + b", chunk_chars=4)])
    backend = OpenAICompatBackend("openai", fake.url, SECRET, 2.0, {"X-Team": "infra"})
    try:
        for _ in range(3):
            assert "".join(c.text for c in await collect(backend, fim())) == "return a + b"
    finally:
        await backend.aclose()
    calls = fake.requests
    assert [c.headers["authorization"] for c in calls] == [f"Bearer {SECRET}"] * 3
    assert calls[0].headers["x-team"] == "infra"
    assert len({c.client_port for c in calls}) == 1  # keep-alive: the body was read to its end


@pytest.mark.parametrize(("line", "expected"), [
    ("data: [DONE]", "done"),
    (": keep-alive comment", None),
    ("event: message", None),
    ("", None),
    ('data: {"choices": [{"text": "x"}]}', {"choices": [{"text": "x"}]}),
])
def test_event_lines(line: str, expected: object) -> None:
    from lsp_server.backends.completion_stream import DONE, parse_event_line

    event = parse_event_line(line.encode(), "http://127.0.0.1/v1/completions")
    assert (event is DONE) if expected == "done" else event == expected


@pytest.mark.parametrize("line", ['data: {"error": {"message": "out of memory"}}', "data: {not json",
                                  "data: [1, 2]", "data: 7"])
def test_error_events_and_garbage_raise_api_errors(line: str) -> None:
    import openai

    from lsp_server.backends.completion_stream import parse_event_line

    with pytest.raises(openai.APIError):
        parse_event_line(line.encode(), "http://127.0.0.1/v1/completions")


@pytest.mark.parametrize(("env", "url", "expected"), [
    ({}, "https://api.example.com/v1/completions", None),
    ({"HTTPS_PROXY": "http://proxy:3128"}, "https://api.example.com/v1/completions", "http://proxy:3128"),
    ({"HTTPS_PROXY": "http://proxy:3128"}, "http://api.example.com/v1/completions", None),
    ({"HTTP_PROXY": "http://proxy:3128"}, "http://127.0.0.1:8000/v1/completions", None),
    ({"HTTP_PROXY": "http://proxy:3128"}, "http://localhost:11434/v1/completions", None),
    ({"HTTP_PROXY": "http://proxy:3128", "NO_PROXY": "vllm.internal"}, "http://vllm.internal:8000/v1", None),
    ({"HTTP_PROXY": "http://proxy:3128"}, "http://vllm.internal:8000/v1", "http://proxy:3128"),
])
def test_the_fim_stream_takes_its_proxy_from_the_environment(monkeypatch, env, url, expected) -> None:
    from lsp_server.backends.completion_stream import env_proxy

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "ALL_PROXY",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert env_proxy(url) == expected


@pytest.fixture
def self_signed(tmp_path) -> tuple[str, str]:
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return str(cert), str(key)


async def test_https_trusts_what_the_sdk_trusts(self_signed, monkeypatch) -> None:
    import ssl

    cert, key = self_signed
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with FakeOpenAIServer(models=["coder"], tls=context) as server:
        server.set_rules([Rule(reply=" + b")])
        untrusted = OpenAICompatBackend("openai", server.url, SECRET, 2.0)
        with pytest.raises(BackendUnavailable):  # an unknown certificate is refused
            await collect(untrusted, fim())
        await untrusted.aclose()
        monkeypatch.setenv("SSL_CERT_FILE", cert)  # how a user trusts a private CA, as for the SDK
        trusted = OpenAICompatBackend("openai", server.url, SECRET, 2.0)
        try:
            assert "".join(c.text for c in await collect(trusted, fim())) == " + b"
        finally:
            await trusted.aclose()


@pytest.mark.parametrize("event", [{"choices": "nope"}, {"choices": [1, 2]}, {"choices": [{"text": 7}]},
                                   {"choices": [{"text": "x", "finish_reason": ["stop"]}]}])
def test_events_of_another_shape_are_type_errors(event: dict[str, object]) -> None:
    from lsp_server.backends.completion_stream import chunk_fields

    with pytest.raises(TypeError):
        chunk_fields(event)


@pytest.mark.parametrize("event", [{"choices": []}, {"choices": None, "usage": {"prompt_tokens": 3}},
                                   {"choices": [{"text": None, "finish_reason": None}]}])
def test_events_without_text_are_fine(event: dict[str, object]) -> None:
    from lsp_server.backends.completion_stream import chunk_fields

    assert chunk_fields(event)[0] == ""


@pytest.mark.parametrize("request_", [fim(), GenerationRequest(feature="hover", model="chatter",
                                                               messages=({"role": "user", "content": "hi"},))])
async def test_a_stream_of_the_wrong_shape_is_a_server_error(request_: GenerationRequest) -> None:
    from tests.fakes.faults import FaultyServer

    with FaultyServer(models=["coder", "chatter"]) as faulty:
        faulty.fault = "wrong_shape"
        backend = OpenAICompatBackend("openai", faulty.url, SECRET, 2.0)
        try:
            with pytest.raises(BackendServerError, match="not an OpenAI-compatible stream"):
                await collect(backend, request_)
        finally:
            await backend.aclose()


async def test_the_bundled_engine_breaking_mid_answer_is_named_as_such(fake) -> None:
    fake.set_rules([Rule(reply="a b c d e f", chunk_chars=2, abort_after_chunks=2)])
    backend = OpenAICompatBackend("vllm", fake.url, None, 2.0)
    try:
        with pytest.raises(BackendServerError, match="bundled vLLM engine stopped mid-answer"):
            await collect(backend, fim())
    finally:
        await backend.aclose()
