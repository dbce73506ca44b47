"""Bookkeeping deferred until the answer is out: it runs after the next response, or soon anyway."""

from __future__ import annotations

import asyncio

from lsp_server.deferred import AfterResponse
from lsp_server.jsonrpc import GhostwriterProtocol
from lsp_server.server import GhostwriterServer


async def test_deferred_work_runs_when_a_response_is_written() -> None:
    server = GhostwriterServer()
    protocol: GhostwriterProtocol = server.protocol  # type: ignore[assignment]
    done: list[str] = []
    protocol.after_response.add(lambda: done.append("usage"))
    assert done == []
    protocol._send_response(1, result=None)  # no writer attached: the write is skipped
    assert done == ["usage"]


async def test_deferred_work_runs_within_20_ms_without_a_response() -> None:
    deferred = AfterResponse()
    done: list[str] = []
    deferred.add(lambda: done.append("warm-up usage"))
    await asyncio.sleep(0.05)
    assert done == ["warm-up usage"]


async def test_a_failing_callback_does_not_stop_the_others() -> None:
    deferred = AfterResponse()
    done: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    deferred.add(broken)
    deferred.add(lambda: done.append("second"))
    deferred.run()
    assert done == ["second"]


def test_without_a_running_loop_it_runs_at_once() -> None:
    deferred = AfterResponse()
    done: list[str] = []
    deferred.add(lambda: done.append("now"))
    assert done == ["now"]
