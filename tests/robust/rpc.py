"""A raw JSON-RPC client over the server's stdio: it writes any bytes, so malformed frames can be sent."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from typing import Any

SERVER_ENV = {**os.environ, "GHOSTWRITER_CONFIG": os.devnull, "GHOSTWRITER_LOG_LEVEL": "error"}


# What this client answers to the server's own requests (null for the rest, as LSP allows for those).
CLIENT_ANSWERS: dict[str, Any] = {"workspace/applyEdit": {"applied": False, "failureReason": "a test client"},
                                  "workspace/configuration": [None]}


class RawServer:
    """`python -m lsp_server` with a reader thread that collects every framed message it writes."""

    def __init__(self, stderr: Any = subprocess.DEVNULL) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "lsp_server"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=stderr, env=SERVER_ENV)
        self.messages: queue.Queue[Any] = queue.Queue()
        self._next_id = 0
        self.frames_sent = 0
        self.responses: list[dict[str, Any]] = []  # every response seen while waiting, in order
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        stream = self.process.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii", "replace").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is not None:
                self.messages.put(json.loads(stream.read(length)))

    def alive(self) -> bool:
        return self.process.poll() is None

    def write(self, body: bytes, header: bytes | None = None) -> None:
        assert self.process.stdin is not None
        frame = (header if header is not None else b"Content-Length: %d\r\n\r\n" % len(body)) + body
        self.process.stdin.write(frame)
        self.process.stdin.flush()
        self.frames_sent += 1

    def send(self, message: Any) -> None:
        self.write(json.dumps(message).encode())

    def fresh_id(self) -> str:
        self._next_id += 1
        return f"probe-{self._next_id}"

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any, timeout: float = 20.0) -> dict[str, Any]:
        msg_id = self.fresh_id()
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return self.wait_for(msg_id, timeout)

    def wait_for(self, msg_id: Any, timeout: float = 20.0) -> dict[str, Any]:
        """The response to `msg_id`; server-to-client requests are answered with null on the way."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer to {msg_id!r}")
            message = self.messages.get(timeout=left)
            if "method" in message and "id" in message:  # e.g. workspace/configuration, progress create
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": CLIENT_ANSWERS.get(message["method"])})
            elif "method" not in message:
                self.responses.append(message)
                if message.get("id") == msg_id:
                    return message

    def drain(self) -> list[dict[str, Any]]:
        out = []
        while not self.messages.empty():
            out.append(self.messages.get_nowait())
        return out

    def close(self) -> None:
        if self.alive():
            try:
                self.request("shutdown", None, timeout=5)
                self.notify("exit", None)
                self.process.wait(5)
            except Exception:
                self.process.kill()
        self.process.wait(5)
