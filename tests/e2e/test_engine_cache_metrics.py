"""The bundled engine's prefix-cache hit rate reaches the `ghostwriter/usage` notification.

The stand-in engine serves vLLM's counters on /metrics; the test moves them through the stand-in's
control endpoint, as real traffic would, and reads the rate the server pushes to the editor.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any, cast

import httpx2
import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.test_bundled_engine import engine_settings, fake_engine_env, stop, wait_for_state
from tests.e2e.test_cost_status import _plain


async def start_collecting(tmp_path: Path) -> LanguageClient:
    config = ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"],
                                server_env=fake_engine_env(tmp_path, startup_s=0.3))
    client = cast(LanguageClient, await config.start())  # the default client class is LanguageClient
    client.usage_notes = []  # type: ignore[attr-defined]

    @client.feature("ghostwriter/usage")
    def on_usage(params: Any) -> None:
        client.usage_notes.append(_plain(params))  # type: ignore[attr-defined]

    await client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(), initialization_options=engine_settings(tmp_path),
        root_uri=tmp_path.as_uri()))
    return client


async def engine_note(client: LanguageClient, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for note in reversed(client.usage_notes):  # type: ignore[attr-defined]
            if note.get("engine") and predicate(note["engine"]):
                return note
        await asyncio.sleep(0.1)
    raise AssertionError(f"no matching engine figures; last: {client.usage_notes[-1:]}")  # type: ignore[attr-defined]


@pytest.mark.e2e
async def test_usage_notification_carries_the_engine_prefix_cache_metrics(tmp_path: Path) -> None:
    client = await start_collecting(tmp_path)
    try:
        ready = await wait_for_state(client, "ready")
        root = ready["engineUrl"].removesuffix("/v1")
        # The first read after the engine is ready is the session's baseline: no rate yet.
        baseline = await engine_note(client, lambda engine: engine["prefixCacheQueries"] == 0)
        assert baseline["engine"]["prefixCacheHitRate"] is None
        async with httpx2.AsyncClient(trust_env=False) as http:
            response = await http.post(f"{root}/_control/metrics", json={"queries": 400, "hits": 300})
            assert response.status_code == 200
        note = await engine_note(client, lambda engine: engine["prefixCacheHitRate"] is not None)
        assert note["engine"] == {"prefixCacheHitRate": 0.75, "prefixCacheQueries": 400, "prefixCacheHits": 300,
                                  "lifetimeHitRate": 0.75}
        await client.shutdown_session()
    finally:
        await stop(client)
