"""Honest usage over real stdio, against an endpoint that ignores `stop` and streams past the line break.

The server cuts each single-line answer at its first line break, and still records what the endpoint
billed: it reads the rest of the stream in the background for the final usage chunk. Where that
chunk never comes, the figures are the server's estimate and are marked as such.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import MODEL, inline_params, model_calls, open_document, start
from tests.fakes.openai_server import FakeOpenAIServer

USAGE = {"prompt_tokens": 1000, "cached_tokens": 600, "completion_tokens": 20}
PRICE = {MODEL: {"inputPer1M": 2.0, "cachedInputPer1M": 0.5, "outputPer1M": 8.0, "currency": "USD"}}
# Past the first line, as an endpoint that ignores `stop: ["\n"]` sends it.
REPLY = "math.pi * radius ** 2\n\n\ndef perimeter(radius):\n    return 2 * math.pi * radius\n"
CALLS = 11


def cost_of(usage: dict[str, int]) -> float:
    fresh = usage["prompt_tokens"] - usage["cached_tokens"]
    return (fresh * 2.0 + usage["cached_tokens"] * 0.5 + usage["completion_tokens"] * 8.0) / 1e6


async def show_usage(client: LanguageClient) -> dict[str, Any]:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(command="ghostwriter.showUsage"))


async def complete_in_files(client: LanguageClient, tmp_path: Path, count: int) -> list[str]:
    """One completion in each of `count` files (distinct prompts: no disk-cache hit, no typed-ahead reuse)."""
    texts = []
    for i in range(count):
        source = f"import math\n\n\ndef area_{i}(radius):\n    return \n"
        uri = open_document(client, tmp_path / f"shape_{i}.py", source)
        result = await client.text_document_inline_completion_async(inline_params(uri, 4, 11))
        assert result and result.items
        texts.append(str(result.items[0].insert_text))
    return texts


async def settled_usage(client: LanguageClient, requests: int, timeout_s: float = 20.0) -> dict[str, Any]:
    """The summary once every call's usage is in (the endpoint's or, given up on, the estimate)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        summary = await show_usage(client)
        if summary["session"]["requests"] >= requests or asyncio.get_running_loop().time() > deadline:
            return summary
        await asyncio.sleep(0.1)


async def test_the_ledger_shows_what_the_endpoint_billed_although_every_answer_was_cut(
        client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    fake.set_rules([{"endpoint": "completions", "reply": REPLY, "usage": USAGE}])
    await start(client, fake, tmp_path, {"pricing": PRICE})
    texts = await complete_in_files(client, tmp_path, CALLS)
    assert texts == ["math.pi * radius ** 2"] * CALLS  # the answer is the first line only
    summary = await settled_usage(client, CALLS)
    session = summary["session"]
    assert len(model_calls(fake)) == CALLS
    assert all(call.body["stop"] and call.body["stream_options"] == {"include_usage": True}
               for call in model_calls(fake))
    assert (session["requests"], session["promptTokens"], session["cachedPromptTokens"],
            session["completionTokens"]) == (CALLS, 11_000, 6_600, 220)
    assert session["cost"] == pytest.approx(round(CALLS * cost_of(USAGE), 6), abs=1e-9)
    assert session["estimatedRequests"] == 0 and not summary["last"]["estimated"]
    assert "~" not in summary["line"] and "estimated" not in summary["line"]
    assert summary["today"]["promptTokens"] >= 11_000


async def test_usage_that_never_arrives_is_marked_as_estimated(
        client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    fake.set_rules([{"endpoint": "completions", "reply": REPLY, "usage": USAGE, "send_usage": False}])
    await start(client, fake, tmp_path, {"pricing": PRICE})
    await complete_in_files(client, tmp_path, 3)
    summary = await settled_usage(client, 3)
    session = summary["session"]
    assert (session["requests"], session["estimatedRequests"]) == (3, 3)
    assert session["promptTokens"] != 3_000  # our estimate, not a figure the endpoint gave
    assert summary["last"]["estimated"]
    assert "(3 of 3 calls estimated)" in summary["line"] and summary["line"].startswith("today ~")
