"""textDocument/hover and ghostwriter.explain over real stdio against the loopback fake backend."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import LanguageClient

from tests.e2e.conftest import capabilities_for, model_calls, open_document, start
from tests.fakes.openai_server import FakeOpenAIServer

SOURCE = "def add(a, b):\n    return a + b\n\n\ntotal = add(1, 2)\n"
CALL = types.Position(line=4, character=9)  # on `add` in `total = add(1, 2)`


def hover_params(uri: str, position: types.Position = CALL) -> types.HoverParams:
    return types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)


def hover_text(result: types.Hover | None) -> str:
    assert result is not None
    assert isinstance(result.contents, types.MarkupContent)
    return result.contents.value


async def test_always_mode_explains_and_caches(client: LanguageClient, fake: FakeOpenAIServer,
                                               tmp_path: Path) -> None:
    fake.set_rules([{"contains": "Explain", "reply": "`add` returns the sum of `a` and `b`."}])
    await start(client, fake, tmp_path, {"hover": {"mode": "always"}})
    uri = open_document(client, tmp_path / "calc.py", SOURCE)
    first = await client.text_document_hover_async(hover_params(uri))
    assert hover_text(first) == "`add` returns the sum of `a` and `b`."
    assert first is not None and isinstance(first.contents, types.MarkupContent)
    assert first.contents.kind == types.MarkupKind.Markdown
    assert first.range == types.Range(start=types.Position(4, 8), end=types.Position(4, 11))
    [call] = model_calls(fake)
    user = call.body["messages"][-1]["content"]
    assert "def add(a, b):" in user and "total = add(1, 2)" in user  # the definition rides along
    second = await client.text_document_hover_async(hover_params(uri))
    assert hover_text(second) == hover_text(first)
    assert len(model_calls(fake)) == 1  # same code, explained once


async def test_on_demand_hover_waits_for_the_explain_command(client: LanguageClient, fake: FakeOpenAIServer,
                                                             tmp_path: Path) -> None:
    fake.set_rules([{"reply": "Calls `add`."}])
    await start(client, fake, tmp_path)  # hover.mode defaults to onDemand
    uri = open_document(client, tmp_path / "calc.py", SOURCE)
    assert await client.text_document_hover_async(hover_params(uri)) is None
    assert model_calls(fake) == []
    markdown = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="ghostwriter.explain", arguments=[uri, {"line": 4, "character": 9}]))
    assert markdown == "Calls `add`."
    assert hover_text(await client.text_document_hover_async(hover_params(uri))) == "Calls `add`."
    # Elsewhere the hover is not armed.
    assert await client.text_document_hover_async(hover_params(uri, types.Position(0, 4))) is None
    assert len(model_calls(fake)) == 1


async def test_off_mode_never_answers(client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    fake.set_rules([{"reply": "unused"}])
    await start(client, fake, tmp_path, {"hover": {"mode": "off"}})
    uri = open_document(client, tmp_path / "calc.py", SOURCE)
    assert await client.text_document_hover_async(hover_params(uri)) is None
    assert model_calls(fake) == []


async def test_cancelled_hover_spends_nothing(client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    fake.set_rules([{"reply": "Adds."}])
    await start(client, fake, tmp_path, {"hover": {"mode": "always"}})
    uri = open_document(client, tmp_path / "calc.py", SOURCE)
    # A first hover elsewhere warms the server up, so the timing below is the debounce's alone.
    assert hover_text(await client.text_document_hover_async(hover_params(uri, types.Position(0, 5)))) == "Adds."
    # pytest-lsp's send_request_async is a coroutine: wrap it in a task so the request leaves now.
    pending = asyncio.ensure_future(
        client.protocol.send_request_async(types.TEXT_DOCUMENT_HOVER, hover_params(uri), msg_id="hover-1"))
    await asyncio.sleep(0.03)
    # Cancelling a client future sends nothing; the editor's $/cancelRequest is sent explicitly.
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="hover-1"))
    with pytest.raises(JsonRpcRequestCancelled):
        await pending
    await asyncio.sleep(0.4)
    assert len(model_calls(fake)) == 1
    assert hover_text(await client.text_document_hover_async(hover_params(uri))) == "Adds."
    assert len(model_calls(fake)) == 2


async def test_plain_text_for_clients_without_markdown(client: LanguageClient, fake: FakeOpenAIServer,
                                                       tmp_path: Path) -> None:
    fake.set_rules([{"reply": "Adds two numbers."}])
    capabilities = capabilities_for(client.profile)  # type: ignore[attr-defined]
    assert capabilities.text_document is not None
    capabilities.text_document.hover = types.HoverClientCapabilities(content_format=[types.MarkupKind.PlainText])
    await start(client, fake, tmp_path, {"hover": {"mode": "always"}}, capabilities=capabilities)
    uri = open_document(client, tmp_path / "calc.py", SOURCE)
    result = await client.text_document_hover_async(hover_params(uri))
    assert result is not None and isinstance(result.contents, types.MarkupContent)
    assert result.contents.kind == types.MarkupKind.PlainText
    assert "plain text" in model_calls(fake)[0].body["messages"][-1]["content"]


async def test_qwen3_runs_without_thinking_and_think_is_stripped(client: LanguageClient, fake: FakeOpenAIServer,
                                                                 tmp_path: Path) -> None:
    fake.set_rules([{"reply": "<think>the user wants brevity</think>Sums two numbers."}])
    await start(client, fake, tmp_path, {"hover": {"mode": "always"}, "backend": {"model": "Qwen/Qwen3-8B"}})
    uri = open_document(client, tmp_path / "calc.py", SOURCE)
    assert hover_text(await client.text_document_hover_async(hover_params(uri))) == "Sums two numbers."
    body = model_calls(fake)[0].body
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["messages"][-1]["content"].endswith("/no_think")
