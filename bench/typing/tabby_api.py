"""A stand-in for the Tabby server (the HTTP API tabby-agent calls), in front of any FIM engine.

Stdlib only. It answers the agent's health check and server settings (telemetry off), and turns
each `/v1/completions` call into the Qwen FIM prompt Tabby's server builds (snippets rendered as
line comments above the prefix, an empty suffix read as a newline, Tabby's stop words for Python)
sent to the engine's OpenAI-compatible `/completions`.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

# Tabby's server stops Python at a blank line, a comment or a top-level keyword at column 0.
STOP = ["\n\n", "\n#", "\ndef", "\nfrom", "\nclass", "\nimport"]
HEALTH: dict[str, Any] = {"model": "qwen2.5-coder-1.5b", "chat_model": None, "device": "cpu", "arch": "x86_64",
          "cpu_info": "loopback stand-in", "cpu_count": 2, "cuda_devices": [],
          "version": {"build_date": "", "build_timestamp": "", "git_sha": "", "git_describe": "v0.30.0"}}


def fim_prompt(segments: dict[str, Any]) -> str:
    snippets = [*(segments.get("declarations") or []), *(segments.get("relevant_snippets_from_changed_files") or [])]
    rendered = "\n#\n".join(
        "\n".join([f"# Path: {s.get('filepath', '')}", *(f"# {line}" for line in str(s.get("body", "")).split("\n"))])
        for s in snippets)
    head = rendered + "\n" if rendered else ""
    suffix = segments.get("suffix") or "\n"
    return f"<|fim_prefix|>{head}{segments.get('prefix', '')}<|fim_suffix|>{suffix}<|fim_middle|>"


class Engine:
    """A keep-alive client of the engine per thread, with the loopback latency traps defused."""

    def __init__(self, base_url: str, model: str, max_tokens: int) -> None:
        parts = urlsplit(base_url)
        self.host, self.port, self.path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path.rstrip("/")
        self.model, self.max_tokens = model, max_tokens
        self._local = threading.local()

    def complete(self, prompt: str) -> str:
        body = json.dumps({"model": self.model, "prompt": prompt, "max_tokens": self.max_tokens,
                           "temperature": 0, "stop": STOP}).encode()
        for attempt in range(2):  # a keep-alive connection the engine closed is retried once
            conn = self._connection()
            try:
                conn.request("POST", f"{self.path}/completions", body, {"Content-Type": "application/json"})
                # The engine writes headers and body separately; a delayed ACK would stall the second.
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                reply = json.loads(conn.getresponse().read())
                return str(reply["choices"][0]["text"] or "")
            except (http.client.HTTPException, OSError):
                self._local.conn = None
                if attempt:
                    raise
        return ""

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.conn = conn
        return conn


class TabbyStandIn(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, engine: Engine, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.engine = engine
        self.completions = 0
        self.events = 0
        self.checks = 0  # health checks and settings reads: the agent is ready once it has read both
        self.routes: dict[tuple[str, str], Any] = {}  # extra routes: (method, path) -> handler(body) -> reply

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: TabbyStandIn

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._route("GET", None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self._route("POST", json.loads(raw) if raw else {})

    def _route(self, method: str, body: Any) -> None:
        path = self.path.split("?", 1)[0]
        extra = self.server.routes.get((method, path))
        if extra is not None:
            self._send(200, extra(body))
        elif path == "/v1/health":
            self.server.checks += 1
            self._send(200, HEALTH)
        elif path == "/v1beta/server_setting":
            self.server.checks += 1
            self._send(200, {"disable_client_side_telemetry": True})
        elif path == "/v1/completions" and method == "POST":
            self.server.completions += 1
            text = self.server.engine.complete(fim_prompt(body.get("segments") or {}))
            self._send(200, {"id": f"cmpl-{uuid.uuid4()}", "choices": [{"index": 0, "text": text}]})
        elif path == "/v1/events" and method == "POST":
            self.server.events += 1
            self._send(200, {})
        else:
            self._send(404, {"detail": "Not Found"})

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
