"""A loopback OpenAI-compatible server with scripted replies and a request log.

It speaks the wire protocol (HTTP/1.1 keep-alive, SSE streaming, `usage` with cached tokens, vLLM's
`/tokenize`, the prefix-cache counters on `/metrics`) so tests exercise the real SDK and do not depend on
its HTTP library. Run it in-thread
(`FakeOpenAIServer().start()`) or as a process (`python -m tests.fakes.openai_server --port 0`), which
prints its base URL on the first stdout line and is scripted through the `/_control/*` endpoints.
"""

from __future__ import annotations

import argparse
import json
import select
import signal
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.fakes.rules import Rule, Script, prompt_text, split_reply


@dataclass
class LoggedRequest:
    method: str
    path: str
    body: Any
    received_at: float  # time.monotonic(), once the body is read
    disconnected: bool = False  # the client went away before the response was complete
    finished_at: float | None = None  # after the last byte was written
    arrived_at: float = 0.0  # when the request line arrived (before any parsing here)
    client_port: int = 0  # the client's port: one per connection, so reuse of keep-alive shows
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a stalled stream
    fake: FakeOpenAIServer


class FakeOpenAIServer:
    """Scripted OpenAI-compatible endpoint; thread-safe; usable as a context manager."""

    def __init__(
        self,
        rules: list[Rule] | None = None,
        *,
        models: list[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tokenize: bool = True,
        zero_latency: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.script = Script(rules or [], models or ["fake-model"], tokenize, zero_latency)
        # Anything but 200 makes /health and the API answer with it (an engine still loading).
        self.health_status = 200
        # vLLM's prefix-cache counters (tokens) served on GET /metrics; tests set them directly or
        # through POST /_control/metrics {"queries": ..., "hits": ...}.
        self.metrics_queries = 0.0
        self.metrics_hits = 0.0
        self._address = (host, port)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._log: list[LoggedRequest] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._tls = tls  # serve HTTPS with this server-side context

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        server = self._server = _Server(self._address, _Handler)
        server.fake = self
        if self._tls is not None:
            server.socket = self._tls.wrap_socket(server.socket, server_side=True)
        # A short poll interval keeps stop() (and so every test teardown) quick.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            # Keep-alive connections hold handler threads in readline(); wake them up.
            for sock in list(self._connections):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._server = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        return f"{'https' if self._tls is not None else 'http'}://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.root_url}/v1"

    # -- scripting -------------------------------------------------------------------------------
    def set_rules(self, rules: Sequence[Rule | Mapping[str, Any]]) -> None:
        parsed = [r if isinstance(r, Rule) else Rule.from_dict(r) for r in rules]
        with self._lock:
            self.script.rules = parsed

    def set_models(self, models: list[str]) -> None:
        with self._lock:
            self.script.models = list(models)

    def match(self, endpoint: str, body: Mapping[str, Any]) -> Rule:
        with self._lock:
            return self.script.match(endpoint, body)

    def set_metrics(self, queries: float, hits: float) -> None:
        with self._lock:
            self.metrics_queries, self.metrics_hits = float(queries), float(hits)

    def metrics_text(self) -> str:
        """Prometheus text exposition of the prefix-cache counters, labelled as vLLM labels them."""
        with self._lock:
            model = self.script.models[0] if self.script.models else "fake-model"
            values = {"queries": self.metrics_queries, "hits": self.metrics_hits}
        lines = []
        for name, value in values.items():
            metric = f"vllm:prefix_cache_{name}"
            lines += [f"# HELP {metric}_total Prefix cache {name}, in tokens.",
                      f"# TYPE {metric}_total counter",
                      f'{metric}_total{{engine="0",model_name="{model}"}} {value}',
                      f'{metric}_created{{engine="0",model_name="{model}"}} 1.7e+09']
        return "\n".join(lines) + "\n"

    # -- request log -----------------------------------------------------------------------------
    @property
    def requests(self) -> list[LoggedRequest]:
        """API requests (not /health, /metrics, /_control) in arrival order; a snapshot."""
        with self._lock:
            return list(self._log)

    def clear(self) -> None:
        with self._lock:
            self._log.clear()

    def wait_for(self, predicate: Callable[[list[LoggedRequest]], bool], timeout: float = 5.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: predicate(list(self._log)), timeout)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[LoggedRequest]:
        if not self.wait_for(lambda log: len(log) >= n, timeout):
            raise TimeoutError(f"expected {n} requests, got {len(self.requests)}")
        return self.requests

    def wait_for_disconnect(self, timeout: float = 5.0) -> bool:
        return self.wait_for(lambda log: any(r.disconnected for r in log), timeout)

    def _record(self, entry: LoggedRequest) -> None:
        with self._changed:
            self._log.append(entry)
            self._changed.notify_all()

    def _finish(self, entry: LoggedRequest, disconnected: bool) -> None:
        with self._changed:
            entry.disconnected = disconnected
            entry.finished_at = time.monotonic()
            self._changed.notify_all()

    def _track(self, sock: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(sock)


class _ClientGone(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real engine
    server: _Server

    def setup(self) -> None:
        # Without TCP_NODELAY, Nagle + delayed ACK stall keep-alive clients ~40 ms per request.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()
        self.server.fake._track(self.request, True)

    def finish(self) -> None:
        self.server.fake._track(self.request, False)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass  # stdout/stderr belong to the test runner (and stdout to the URL line)

    # -- routing ---------------------------------------------------------------------------------
    def do_GET(self) -> None:
        fake = self.server.fake
        if self.path == "/health":
            self._send_json(fake.health_status, {} if fake.health_status == 200 else {"status": "loading"})
        elif self.path == "/metrics":
            self._send_text(200, fake.metrics_text(), "text/plain; version=0.0.4; charset=utf-8")
        elif self.path == "/_control/log":
            self._send_json(200, {"requests": [asdict(r) for r in fake.requests]})
        elif self._unready():
            return
        elif self.path == "/v1/models":
            entry = self._log_request(None)
            self._send_json(200, fake.script.models_body())
            fake._finish(entry, False)
        else:
            self._send_json(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        fake = self.server.fake
        body = self._read_json()
        if self.path.startswith("/_control/"):
            self._control(body)
            return
        if self._unready():
            return
        entry = self._log_request(body)
        if self.path == "/tokenize" and fake.script.tokenize:
            tokens = fake.script.tokenize_ids(str(body.get("prompt", "")))
            self._send_json(200, {"tokens": tokens, "count": len(tokens), "max_model_len": 32768})
        elif self.path in ("/v1/completions", "/v1/chat/completions"):
            self._generate("chat" if "chat" in self.path else "completions", body, entry)
            return
        else:
            self._send_json(404, {"detail": "Not Found"})
        fake._finish(entry, False)

    def _control(self, body: Any) -> None:
        fake = self.server.fake
        if self.path == "/_control/rules":
            fake.set_rules(body["rules"] if isinstance(body, dict) else body)
            if isinstance(body, dict) and "models" in body:
                fake.set_models(body["models"])
        elif self.path == "/_control/clear":
            fake.clear()
        elif self.path == "/_control/metrics":
            fake.set_metrics(body.get("queries", 0), body.get("hits", 0))
        else:
            self._send_json(404, {"detail": "Not Found"})
            return
        self._send_json(200, {"ok": True})

    def _unready(self) -> bool:
        status = self.server.fake.health_status
        if status != 200:
            self._send_json(status, {"error": {"message": "engine is loading", "code": status}})
        return status != 200

    # -- generation ------------------------------------------------------------------------------
    def _generate(self, endpoint: str, body: Any, entry: LoggedRequest) -> None:
        fake = self.server.fake
        rule = fake.match(endpoint, body)
        scale = 0.0 if fake.script.zero_latency else 0.001
        try:
            self._pause(rule.delay_ms * scale)
            if rule.status != 200:
                extra = {"Retry-After": f"{rule.retry_after_s:g}"} if rule.retry_after_s is not None else {}
                self._send_json(rule.status, rule.error_body(), extra)
            elif body.get("stream"):
                self._stream(endpoint, body, rule, rule.chunk_delay_ms * scale)
            else:
                self._send_json(200, rule.full_response(endpoint, body, prompt_text(body)))
        except (_ClientGone, BrokenPipeError, ConnectionResetError):
            fake._finish(entry, True)
            self.close_connection = True
            return
        fake._finish(entry, False)

    def _stream(self, endpoint: str, body: Any, rule: Rule, chunk_delay: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pieces = split_reply(rule)
        for i, piece in enumerate(pieces):
            if i and chunk_delay:
                self._pause(chunk_delay)
            if rule.abort_after_chunks is not None and i >= rule.abort_after_chunks:
                self.close_connection = True
                self.wfile.write(b"5\r\ndata:")  # a torn frame, then the connection drops
                return
            last = i == len(pieces) - 1
            self._event(rule.stream_chunk(endpoint, body, piece, rule.finish_reason if last else None))
        options = body.get("stream_options") or {}
        if options.get("include_usage") and rule.send_usage:
            if rule.usage_delay_ms:
                self._pause(rule.usage_delay_ms * (0.0 if self.server.fake.script.zero_latency else 0.001))
            self._event(rule.usage_chunk(endpoint, body, prompt_text(body)))
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def _event(self, payload: Mapping[str, Any]) -> None:
        self._write_chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def _write_chunk(self, data: bytes) -> None:
        self._check_connected()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _pause(self, seconds: float) -> None:
        """Sleep, but notice a client that hangs up meanwhile (a cancelled request)."""
        deadline = time.monotonic() + seconds
        while True:
            self._check_connected(max(0.0, min(0.05, deadline - time.monotonic())))
            if time.monotonic() >= deadline:
                return

    def _check_connected(self, wait: float = 0.0) -> None:
        # Mid-response the client sends nothing, so a readable socket means EOF or a reset.
        readable, _, _ = select.select([self.request], [], [], wait)
        if readable:
            try:
                if self.request.recv(1, socket.MSG_PEEK) == b"":
                    raise _ClientGone
            except (ConnectionResetError, OSError) as exc:
                raise _ClientGone from exc

    # -- plumbing --------------------------------------------------------------------------------
    def parse_request(self) -> bool:
        # Called as soon as the request line is read: the time the client's request arrived,
        # before this server spends its own time parsing it (latency benchmarks subtract it).
        self._arrived_at = time.monotonic()
        return super().parse_request()

    def _read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            return {"_raw": raw.decode(errors="replace")}

    def _log_request(self, body: Any) -> LoggedRequest:
        entry = LoggedRequest(self.command, self.path, body, time.monotonic(),
                              arrived_at=getattr(self, "_arrived_at", 0.0), client_port=self.client_address[1],
                              headers={k.lower(): v for k, v in self.headers.items()})
        self.server.fake._record(entry)
        return entry

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send_text(status, json.dumps(payload), "application/json", headers)

    def _send_text(self, status: int, text: str, content_type: str, headers: dict[str, str] | None = None) -> None:
        data = text.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible loopback server.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", type=Path, help="JSON: a list of rules, or {rules, models, tokenize}")
    parser.add_argument("--models", default="", help="comma-separated model ids")
    parser.add_argument("--no-tokenize", action="store_true")
    parser.add_argument("--zero-latency", action="store_true")
    args = parser.parse_args(argv)
    spec: Any = json.loads(args.script.read_text()) if args.script else []
    spec = {"rules": spec} if isinstance(spec, list) else spec
    models = [m for m in args.models.split(",") if m] or spec.get("models")
    server = FakeOpenAIServer(
        [Rule.from_dict(r) for r in spec.get("rules", [])],
        models=models,
        port=args.port,
        tokenize=spec.get("tokenize", True) and not args.no_tokenize,
        zero_latency=args.zero_latency,
    ).start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    print(server.url, flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
