"""The fake OpenAI-compatible server itself: wire format, scripting, request log, subprocess mode."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes import FakeOpenAIServer, Rule, child_env


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(models=["m1", "m2"]) as server:
        yield server


def _post(conn: http.client.HTTPConnection, path: str, body: Any) -> tuple[int, bytes]:
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


def _events(raw: bytes) -> list[Any]:
    frames = [f.removeprefix("data: ") for f in raw.decode().split("\n\n") if f]
    return [f if f == "[DONE]" else json.loads(f) for f in frames]


def test_stream_sends_pieces_then_usage_then_done(fake: FakeOpenAIServer) -> None:
    fake.set_rules([Rule(reply="return a + b", usage={"prompt_tokens": 10, "cached_tokens": 8})])
    conn = http.client.HTTPConnection("127.0.0.1", fake.port)
    body = {"model": "m1", "prompt": "x", "stream": True, "stream_options": {"include_usage": True}}
    status, raw = _post(conn, "/v1/completions", body)
    events = _events(raw)
    assert status == 200
    assert "".join(e["choices"][0]["text"] for e in events[:-2]) == "return a + b"
    assert events[-3]["choices"][0]["finish_reason"] == "stop"
    assert events[-2]["usage"]["prompt_tokens_details"] == {"cached_tokens": 8}
    assert events[-1] == "[DONE]"


def test_usage_chunk_only_when_asked(fake: FakeOpenAIServer) -> None:
    fake.set_rules([{"reply": "hi"}])
    conn = http.client.HTTPConnection("127.0.0.1", fake.port)
    _, raw = _post(conn, "/v1/chat/completions", {"messages": [{"role": "user", "content": "q"}], "stream": True})
    assert all("usage" not in e for e in _events(raw)[:-1])


def test_rules_match_in_order_with_times_and_default(fake: FakeOpenAIServer) -> None:
    fake.set_rules(
        [
            {"contains": "add", "status": 429, "error_message": "slow down", "times": 1},
            {"contains": "add", "reply": "a + b"},
            {"endpoint": "chat", "reply": "chat answer"},
        ]
    )
    conn = http.client.HTTPConnection("127.0.0.1", fake.port)
    status, raw = _post(conn, "/v1/completions", {"prompt": "def add"})
    assert status == 429 and json.loads(raw)["error"]["message"] == "slow down"
    _, raw = _post(conn, "/v1/completions", {"prompt": "def add"})
    assert json.loads(raw)["choices"][0]["text"] == "a + b"
    _, raw = _post(conn, "/v1/chat/completions", {"messages": [{"role": "user", "content": "hello"}]})
    assert json.loads(raw)["choices"][0]["message"]["content"] == "chat answer"
    _, raw = _post(conn, "/v1/completions", {"prompt": "nothing matches"})
    reply = json.loads(raw)
    assert reply["choices"][0]["text"] == "" and reply["usage"]["prompt_tokens"] == len("nothing matches") // 4


def test_models_health_and_tokenize(fake: FakeOpenAIServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", fake.port)
    conn.request("GET", "/v1/models")
    assert [m["id"] for m in json.loads(conn.getresponse().read())["data"]] == ["m1", "m2"]
    conn.request("GET", "/health")
    response = conn.getresponse()
    assert response.status == 200 and response.read() == b"{}"
    status, raw = _post(conn, "/tokenize", {"model": "m1", "prompt": "hello world"})
    assert status == 200 and json.loads(raw)["count"] == len(json.loads(raw)["tokens"]) > 0
    fake.script.tokenize = False
    assert _post(conn, "/tokenize", {"model": "m1", "prompt": "x"})[0] == 404


def test_request_log_records_bodies_and_clear(fake: FakeOpenAIServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", fake.port)
    _post(conn, "/v1/completions", {"model": "m1", "prompt": "p", "extra": 1})
    [entry] = fake.wait_for_requests(1)
    assert (entry.method, entry.path, entry.body["extra"], entry.disconnected) == ("POST", "/v1/completions", 1, False)
    fake.clear()
    assert fake.requests == []


def test_keep_alive_requests_do_not_stall(fake: FakeOpenAIServer) -> None:
    # Guards TCP_NODELAY: without it each keep-alive request waits ~40 ms for a delayed ACK.
    conn = http.client.HTTPConnection("127.0.0.1", fake.port)
    _post(conn, "/v1/completions", {"prompt": "warm"})
    took = []
    for _ in range(20):
        started = time.perf_counter()
        _post(conn, "/v1/completions", {"prompt": "x" * 3000, "stream": True})
        took.append(time.perf_counter() - started)
    assert sorted(took)[len(took) // 2] < 0.03  # the median, so a busy machine does not fail it


def test_client_hanging_up_mid_stream_is_logged(fake: FakeOpenAIServer) -> None:
    fake.set_rules([{"reply": "a b c d e f g h", "chunk_delay_ms": 30}])
    sock = socket.create_connection(("127.0.0.1", fake.port))
    body = json.dumps({"prompt": "x", "stream": True}).encode()
    head = f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
    sock.sendall(head.encode() + body)
    assert sock.recv(100).startswith(b"HTTP/1.1 200")
    sock.close()
    assert fake.wait_for_disconnect(timeout=3)


def test_delay_and_zero_latency() -> None:
    rule = Rule(reply="x", delay_ms=200)
    for zero, expect_slow in ((False, True), (True, False)):
        with FakeOpenAIServer([rule], zero_latency=zero) as server:
            conn = http.client.HTTPConnection("127.0.0.1", server.port)
            started = time.perf_counter()
            _post(conn, "/v1/completions", {"prompt": "x"})
            assert (time.perf_counter() - started >= 0.2) is expect_slow


def test_subprocess_mode_with_script_and_control(tmp_path: Any) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"rules": [{"reply": "from file"}], "models": ["served"]}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_server", "--port", "0", "--script", str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        conn = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1].split("/")[0]))
        assert json.loads(_post(conn, "/v1/completions", {"prompt": "a"})[1])["choices"][0]["text"] == "from file"
        assert _post(conn, "/_control/rules", [{"reply": "scripted live"}])[0] == 200
        assert json.loads(_post(conn, "/v1/completions", {"prompt": "a"})[1])["choices"][0]["text"] == "scripted live"
        conn.request("GET", "/_control/log")
        assert len(json.loads(conn.getresponse().read())["requests"]) == 2
        _post(conn, "/_control/clear", {})
        conn.request("GET", "/_control/log")
        assert json.loads(conn.getresponse().read())["requests"] == []
    finally:
        proc.terminate()
        assert proc.wait(5) == 0
