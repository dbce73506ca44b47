"""textDocument/inlineCompletion over real stdio against the loopback fake backend."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import LanguageClient

from tests.e2e.conftest import (
    another_server,
    change_document,
    inline_params,
    model_calls,
    open_document,
    send_raw_request,
    start,
)
from tests.fakes.openai_server import FakeOpenAIServer

SOURCE = "import math\n\n\ndef area(radius):\n    return \n"


def item_text(result: types.InlineCompletionList | list[types.InlineCompletionItem] | None) -> list[str]:
    items = result.items if isinstance(result, types.InlineCompletionList) else (result or [])
    return [i.insert_text if isinstance(i.insert_text, str) else i.insert_text.value for i in items]


async def test_capabilities_advertise_every_feature(client: LanguageClient, fake: FakeOpenAIServer,
                                                    tmp_path: Path) -> None:
    result = await start(client, fake, tmp_path)
    caps = result.capabilities
    assert caps.inline_completion_provider is not None
    assert caps.hover_provider
    assert isinstance(caps.code_action_provider, types.CodeActionOptions)
    assert caps.code_action_provider.resolve_provider is True
    assert caps.execute_command_provider is not None
    commands = set(caps.execute_command_provider.commands)
    assert {"ghostwriter.explain", "ghostwriter.showUsage", "ghostwriter.resetUsage"} <= commands
    sync = caps.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions)
    assert sync.change == types.TextDocumentSyncKind.Incremental
    # Clients with inline completion don't also get the completion-menu fallback.
    assert caps.completion_provider is None


async def test_completion_arrives_with_range_and_text(client: LanguageClient, fake: FakeOpenAIServer,
                                                      tmp_path: Path) -> None:
    fake.set_rules([{"contains": "def area", "reply": "math.pi * radius ** 2"}])
    await start(client, fake, tmp_path)
    uri = open_document(client, tmp_path / "shapes.py", SOURCE)
    result = await client.text_document_inline_completion_async(inline_params(uri, 4, 11))
    assert isinstance(result, types.InlineCompletionList)
    assert item_text(result) == ["math.pi * radius ** 2"]
    item = result.items[0]
    assert item.range == types.Range(start=types.Position(4, 11), end=types.Position(4, 11))
    prompt = model_calls(fake)[0].body["prompt"]
    assert "<|fim_prefix|>" in prompt and "<|fim_middle|>" in prompt and prompt.endswith("<|fim_middle|>")
    # Mid-line, the answer is one line: the engine is asked to stop at the line break itself.
    assert "\n" in model_calls(fake)[0].body["stop"]


async def test_suffix_duplication_is_removed(client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    source = "def total(items):\n    result = 0\n    for item in items:\n        \n    return result\n"
    # The model repeats the line that already follows the cursor.
    fake.set_rules([{"reply": "result += item.price\n    return result"}])
    await start(client, fake, tmp_path)
    uri = open_document(client, tmp_path / "total.py", source)
    result = await client.text_document_inline_completion_async(inline_params(uri, 3, 8))
    texts = item_text(result)
    assert texts == ["result += item.price"], texts


async def test_auto_closed_brackets_are_replaced_not_duplicated(client: LanguageClient, fake: FakeOpenAIServer,
                                                                 tmp_path: Path) -> None:
    fake.set_rules([{"reply": '"hello")'}])
    await start(client, fake, tmp_path)
    uri = open_document(client, tmp_path / "hello.py", "print()\n")
    result = await client.text_document_inline_completion_async(inline_params(uri, 0, 6))
    assert isinstance(result, types.InlineCompletionList) and result.items
    item = result.items[0]
    text = item_text(result)[0]
    assert item.range is not None
    line = "print()"
    applied = line[:item.range.start.character] + text + line[item.range.end.character:]
    assert applied == 'print("hello")'


async def test_cancelled_request_never_reaches_backend(client: LanguageClient, fake: FakeOpenAIServer,
                                                       tmp_path: Path) -> None:
    fake.set_rules([{"reply": "math.pi"}])
    await start(client, fake, tmp_path, {"completion": {"debounceMs": 300}})
    uri = open_document(client, tmp_path / "shapes.py", SOURCE)
    pending = asyncio.ensure_future(client.protocol.send_request_async(
        types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, 4, 11), msg_id="to-cancel"))
    await asyncio.sleep(0.05)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="to-cancel"))
    # The request is still answered: with RequestCancelled, never silently dropped.
    with pytest.raises(JsonRpcRequestCancelled):
        await pending
    await asyncio.sleep(0.5)
    assert model_calls(fake) == []
    # The server is still healthy and answers the next request.
    result = await client.text_document_inline_completion_async(inline_params(uri, 4, 11, automatic=False))
    assert item_text(result) == ["math.pi"]


async def test_superseded_request_is_answered_empty(client: LanguageClient, fake: FakeOpenAIServer,
                                                    tmp_path: Path) -> None:
    fake.set_rules([{"reply": "math.pi * radius ** 2"}])
    await start(client, fake, tmp_path, {"completion": {"debounceMs": 200}})
    uri = open_document(client, tmp_path / "shapes.py", SOURCE)
    first = asyncio.ensure_future(client.text_document_inline_completion_async(inline_params(uri, 4, 11)))
    await asyncio.sleep(0.05)
    second = await client.text_document_inline_completion_async(inline_params(uri, 4, 11))
    assert item_text(await first) == []
    assert item_text(second) == ["math.pi * radius ** 2"]
    assert len(model_calls(fake)) == 1


async def test_stale_version_gets_empty_answer(client: LanguageClient, fake: FakeOpenAIServer,
                                               tmp_path: Path) -> None:
    fake.set_rules([{"reply": "math.pi"}])
    await start(client, fake, tmp_path)
    uri = open_document(client, tmp_path / "shapes.py", SOURCE)
    change_document(client, uri, 2, 4, 11, "m")
    params = client.protocol._converter.unstructure(inline_params(uri, 4, 11))  # type: ignore[attr-defined]
    params["textDocument"]["version"] = 1  # the client computed this request for version 1
    result = await send_raw_request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, params)
    assert result is None or not result.items
    assert model_calls(fake) == []


async def test_typed_ahead_reuse_serves_without_backend_call(client: LanguageClient, fake: FakeOpenAIServer,
                                                             tmp_path: Path) -> None:
    fake.set_rules([{"reply": "math.pi * radius ** 2"}])
    await start(client, fake, tmp_path)
    uri = open_document(client, tmp_path / "shapes.py", SOURCE)
    first = await client.text_document_inline_completion_async(inline_params(uri, 4, 11))
    assert item_text(first) == ["math.pi * radius ** 2"]
    # The user types the first characters of the suggestion.
    change_document(client, uri, 2, 4, 11, "math.")
    second = await client.text_document_inline_completion_async(inline_params(uri, 4, 16))
    assert item_text(second) == ["pi * radius ** 2"]
    assert len(model_calls(fake)) == 1


async def test_typed_ahead_reuse_of_a_stream_still_running(client: LanguageClient, fake: FakeOpenAIServer,
                                                           tmp_path: Path) -> None:
    fake.set_rules([{"reply": "math.pi * radius ** 2", "chunks": ["math", ".pi", " * radius", " ** 2"],
                     "chunk_delay_ms": 150}])
    await start(client, fake, tmp_path)
    uri = open_document(client, tmp_path / "shapes.py", SOURCE)
    # One request elsewhere first, so the tokenizer and template detection are warm.
    await client.text_document_inline_completion_async(inline_params(uri, 1, 0, automatic=False))
    await asyncio.to_thread(fake.wait_for_requests, 1)
    fake.clear()
    first = asyncio.ensure_future(client.text_document_inline_completion_async(inline_params(uri, 4, 11)))
    await asyncio.sleep(0.2)  # "math" has streamed; the rest is still coming
    change_document(client, uri, 2, 4, 11, "ma")
    second = await client.text_document_inline_completion_async(inline_params(uri, 4, 13))
    assert item_text(second) == ["th.pi * radius ** 2"]
    assert len(model_calls(fake)) == 1
    await first


async def test_gating_skips_mid_identifier_and_strings(client: LanguageClient, fake: FakeOpenAIServer,
                                                       tmp_path: Path) -> None:
    fake.set_rules([{"reply": "x"}])
    await start(client, fake, tmp_path)
    uri = open_document(client, tmp_path / "g.py", "value = compute_total(1)\nname = \"hello world\"\n")
    mid_identifier = await client.text_document_inline_completion_async(inline_params(uri, 0, 12))
    in_string = await client.text_document_inline_completion_async(inline_params(uri, 1, 12))
    assert item_text(mid_identifier) == [] and item_text(in_string) == []
    assert model_calls(fake) == []


async def test_disk_cache_survives_restart(client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    """A second server process with the same cache dir answers from disk (zero backend calls)."""
    fake.set_rules([{"reply": "math.pi * radius ** 2"}])
    await start(client, fake, tmp_path)
    uri = open_document(client, tmp_path / "shapes.py", SOURCE)
    assert item_text(await client.text_document_inline_completion_async(inline_params(uri, 4, 11)))
    calls_before = len(model_calls(fake))
    async with another_server(client, fake, tmp_path) as second:
        uri2 = open_document(second, tmp_path / "shapes.py", SOURCE)
        result = await second.text_document_inline_completion_async(inline_params(uri2, 4, 11))
    assert item_text(result) == ["math.pi * radius ** 2"]
    assert len(model_calls(fake)) == calls_before


async def test_dead_backend_answers_empty_and_server_survives(client: LanguageClient, fake: FakeOpenAIServer,
                                                              tmp_path: Path) -> None:
    await start(client, fake, tmp_path, {"backend": {"baseUrl": "http://127.0.0.1:9/v1"}})
    uri = open_document(client, tmp_path / "shapes.py", SOURCE)
    result = await client.text_document_inline_completion_async(inline_params(uri, 4, 11))
    assert item_text(result) == []
    await asyncio.sleep(0.2)
    assert any("127.0.0.1:9" in m.message for m in client.messages)
    # Unknown documents and malformed positions don't crash it either.
    unknown = await client.text_document_inline_completion_async(inline_params("file:///nope.py", 0, 0))
    assert item_text(unknown) == []
    far = await client.text_document_inline_completion_async(inline_params(uri, 999, 999))
    assert isinstance(far, types.InlineCompletionList)
