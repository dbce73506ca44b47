"""Backend faults against the loopback endpoint: each ends in a clear status and recovery, never a hang.

Faults: a backend that never answers, 429 with Retry-After, 5xx, a connection reset mid-stream,
garbage in the SSE stream (invalid JSON, events of the wrong shape), an endpoint that closes after
the headers, and a bundled engine killed mid-answer (the stand-in of tests/fakes/stand_in_vllm.py).
Every request must be answered within a bound, the status must name the problem, and
once the fault is lifted the next request must succeed. A refactor whose stream breaks applies nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e import test_bundled_engine as engine
from tests.e2e.conftest import inline_params, open_document, start
from tests.fakes.faults import FAULTS, FaultyServer
from tests.robust import counts

MODEL = "qwen2.5-coder-1.5b"
SOURCE = "import math\n\n\ndef area(radius):\n    return \n"
REPLY = "math.pi * radius ** 2"
BOUND_S = 20.0  # every request answered within this, on a busy 2-core machine
STATUS_FAULTS = {"429": {"status": 429, "retry_after_s": 1, "error_message": "rate limited"},
                 "500": {"status": 500, "error_message": "internal"},
                 "503": {"status": 503, "error_message": "overloaded"}}


@pytest.fixture
def faulty() -> Iterator[FaultyServer]:
    with FaultyServer(models=[MODEL]) as server:
        server.set_rules([{"reply": REPLY}])
        yield server


async def usage(client: LanguageClient) -> dict[str, Any]:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(command="ghostwriter.showUsage"))


async def suggest(client: LanguageClient, uri: str) -> list[str]:
    result = await asyncio.wait_for(client.text_document_inline_completion_async(
        inline_params(uri, 4, 11, automatic=False)), BOUND_S)
    return [item.insert_text for item in (result.items if result else [])]  # type: ignore[misc]


def arm(server: FaultyServer, fault: str) -> None:
    counts.add("faults: injected")
    if fault in STATUS_FAULTS:
        server.set_rules([STATUS_FAULTS[fault]])
    else:
        server.fault = fault


def lift(server: FaultyServer) -> None:
    server.fault = None
    server.released.set()
    server.set_rules([{"reply": REPLY}])


@pytest.mark.e2e
@pytest.mark.parametrize("fault", [*STATUS_FAULTS, *FAULTS])
async def test_fault_is_reported_and_recovered_from(client: LanguageClient, faulty: FaultyServer, tmp_path: Path,
                                                    fault: str) -> None:
    await start(client, faulty, tmp_path, {"backend": {"timeoutMs": 2000}, "cache": {"enabled": False}})
    uri = open_document(client, tmp_path / "shapes.py", SOURCE)
    arm(faulty, fault)
    assert REPLY not in await suggest(client, uri)  # answered within the bound, no text from a broken stream
    status = await usage(client)
    shown = [m.message for m in client.messages if m.type in (types.MessageType.Error, types.MessageType.Warning)]
    assert status["state"] == "error" or shown, (status, shown)
    endpoint = faulty.url.rstrip("/")
    assert any(endpoint in text for text in [status["message"], *shown]), (status, shown)  # names what failed
    lift(faulty)
    await asyncio.sleep(1.1)  # past a Retry-After
    assert await suggest(client, uri) == [REPLY]
    assert (await usage(client))["state"] != "error"


@pytest.mark.e2e
@pytest.mark.parametrize("fault", ["reset_mid_stream", "invalid_json", "wrong_shape", "close_after_headers", "500",
                                   "hang"])
async def test_broken_refactor_stream_applies_nothing(client: LanguageClient, faulty: FaultyServer, tmp_path: Path,
                                                      fault: str) -> None:
    await start(client, faulty, tmp_path, {"backend": {"timeoutMs": 2000}, "cache": {"enabled": False}})
    uri = open_document(client, tmp_path / "shapes.py", SOURCE)
    applied: list[Any] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def on_apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    selection = types.Range(start=types.Position(3, 0), end=types.Position(5, 0))
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=selection,
        context=types.CodeActionContext(diagnostics=[])))
    [refactor] = [a for a in actions or [] if isinstance(a, types.CodeAction) and "Refactor" in a.title]
    arm(faulty, fault)
    resolved = await asyncio.wait_for(client.code_action_resolve_async(refactor), BOUND_S)
    counts.add("faults: edits from a broken stream", len(applied) + (resolved.edit is not None))
    assert resolved.edit is None and not applied  # nothing partial reaches the buffer
    await asyncio.sleep(0.2)
    assert client.messages, "the user is told why nothing happened"
    lift(faulty)
    faulty.set_rules([{"reply": json.dumps({"replacement": "def area(radius):\n    return math.pi * radius ** 2\n",
                                            "explanation": "done"})}])
    again = await asyncio.wait_for(client.code_action_resolve_async(refactor), BOUND_S)
    assert again.edit is not None and again.edit.document_changes
    [change] = again.edit.document_changes
    assert isinstance(change, types.TextDocumentEdit) and change.text_document.version == 1  # versioned


@pytest.mark.e2e
async def test_bundled_engine_dying_mid_answer_is_reported_and_restarted(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGKILL the stand-in engine while it streams: the request ends, the user is told, the supervisor
    restarts the engine, and the next request is served by the new one."""
    monkeypatch.setenv("STAND_IN_CHUNK_DELAY_MS", "300")  # " stand-in reply" takes ~2 s to stream
    client = await engine.start_server(tmp_path, engine.engine_settings(tmp_path), startup_s=0.3)
    try:
        await engine.wait_for_state(client, "ready")
        [first] = engine.engine_pids(tmp_path)
        uri = open_document(client, tmp_path / "notes.txt", engine.SOURCE, language_id="plaintext")
        pending = asyncio.ensure_future(client.text_document_inline_completion_async(
            engine.inline_params(uri, 1, 0, automatic=False)))
        await asyncio.sleep(0.8)  # a few pieces streamed
        os.kill(first, signal.SIGKILL)
        counts.add("faults: injected")
        result = await asyncio.wait_for(pending, BOUND_S)
        assert not result.items or result.items[0].insert_text != " stand-in reply"  # nothing from a cut stream
        status = await engine.usage(client)
        shown = [m.message for m in client.messages if m.type == types.MessageType.Error]
        assert status["state"] in ("error", "busy"), status
        assert any("vLLM" in text for text in [status["message"], *shown]), (status, shown)
        summary = await engine.wait_for_state(client, "ready", timeout=BOUND_S * 2)  # restarted
        pids = engine.engine_pids(tmp_path)
        assert len(pids) == 2 and engine.alive(pids[1]) and summary["engineUrl"]
        again = await asyncio.wait_for(client.text_document_inline_completion_async(
            engine.inline_params(uri, 1, 0, automatic=False)), BOUND_S)
        assert [i.insert_text for i in again.items] == [" stand-in reply"]
        assert (await engine.usage(client))["state"] == "ready"
        await client.shutdown_session()
    finally:
        await engine.stop(client)
