"""Backend faults for robustness tests: a fake endpoint that hangs, resets, or streams garbage.

`FaultyServer` is the loopback fake with one fault armed at a time (`server.fault = "reset"`);
None serves normally, so a test can lift the fault and check that the editor's next request succeeds.
"""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any

from tests.fakes.openai_server import FakeOpenAIServer, _ClientGone, _Handler

FAULTS = ("hang", "reset_mid_stream", "close_after_headers", "invalid_json", "wrong_shape")


class _FaultyHandler(_Handler):
    def _generate(self, endpoint: str, body: Any, entry: Any) -> None:
        fault = getattr(self.server.fake, "fault", None)
        if fault is None:
            super()._generate(endpoint, body, entry)
            return
        self.close_connection = True
        try:
            self._fault(fault)
        except (_ClientGone, BrokenPipeError, ConnectionResetError):
            pass
        self.server.fake._finish(entry, True)

    def _fault(self, fault: str) -> None:
        fake: FaultyServer = self.server.fake  # type: ignore[assignment]
        if fault == "hang":  # never a byte: the client's own timeout must end the request
            while not fake.released.wait(0.05):
                self._check_connected()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if fault == "close_after_headers":
            self.wfile.flush()
            return
        events = {
            "reset_mid_stream": [b'data: {"id":"x","object":"text_completion","choices":[{"index":0,"text":"par",'
                                 b'"finish_reason":null}]}\n\n'],
            "invalid_json": [b"data: {this is not json\n\n", b"data: [DONE]\n\n"],
            "wrong_shape": [b'data: {"choices": "nope", "usage": 7}\n\n', b'data: [1, 2, 3]\n\n',
                            b"data: [DONE]\n\n"],
        }[fault]
        for event in events:
            self._write_chunk(event)
        self.wfile.flush()
        if fault == "reset_mid_stream":  # RST, not FIN: SO_LINGER with a zero timeout, then close
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.request.close()
            return
        self.wfile.write(b"0\r\n\r\n")


class FaultyServer(FakeOpenAIServer):
    handler_class = _FaultyHandler

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fault: str | None = None
        self.released = threading.Event()  # set to let hanging requests go

    def stop(self) -> None:
        self.released.set()
        super().stop()
