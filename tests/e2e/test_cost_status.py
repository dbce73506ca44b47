"""The token-cost status item over real stdio: exact sums, cost, cache hits and budgets."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import MODEL, another_server, change_document, inline_params, model_calls, open_document, start
from tests.fakes.openai_server import FakeOpenAIServer

SOURCE = "import math\n\n\ndef area(radius):\n    return \n"
PRICE = {MODEL: {"inputPer1M": 2.0, "cachedInputPer1M": 0.5, "outputPer1M": 8.0, "currency": "EUR"}}
COMPLETION_USAGE = {"prompt_tokens": 1200, "cached_tokens": 1024, "completion_tokens": 9}
HOVER_USAGE = {"prompt_tokens": 800, "cached_tokens": 0, "completion_tokens": 120}


def cost(usage: dict[str, int]) -> float:
    fresh = usage["prompt_tokens"] - usage["cached_tokens"]
    return (fresh * 2.0 + usage["cached_tokens"] * 0.5 + usage["completion_tokens"] * 8.0) / 1e6


async def show_usage(client: LanguageClient) -> dict[str, Any]:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(command="ghostwriter.showUsage"))


async def latest_notification(client: LanguageClient, predicate: Any, timeout: float = 5.0) -> dict[str, Any]:
    """The newest ghostwriter/usage notification satisfying `predicate` (they arrive at most once a second)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        notes = [_plain(n) for n in client.usage_notes]  # type: ignore[attr-defined]
        matching = [n for n in notes if predicate(n)]
        if matching:
            return matching[-1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no matching usage notification; got {client.usage_notes[-1:]}")  # type: ignore[attr-defined]


def _plain(value: Any) -> Any:
    """pygls hands custom notifications over as namedtuple-like objects; compare plain dicts."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def test_notification_carries_exact_sums_and_cost(client: LanguageClient, fake: FakeOpenAIServer,
                                                        tmp_path: Path) -> None:
    fake.set_rules([
        {"endpoint": "completions", "reply": "math.pi * radius ** 2", "usage": COMPLETION_USAGE},
        {"endpoint": "chat", "reply": "Computes the area of a circle.", "usage": HOVER_USAGE},
    ])
    await start(client, fake, tmp_path, {"pricing": PRICE, "hover": {"mode": "always"}})
    uri = open_document(client, tmp_path / "shapes.py", SOURCE)
    result = await client.text_document_inline_completion_async(inline_params(uri, 4, 11))
    assert result.items
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(3, 5)))
    assert hover is not None
    expected_cost = round(cost(COMPLETION_USAGE) + cost(HOVER_USAGE), 6)
    note = await latest_notification(client, lambda n: n["session"]["requests"] == 2)
    session = note["session"]
    assert session["promptTokens"] == 2000
    assert session["cachedPromptTokens"] == 1024
    assert session["completionTokens"] == 129
    assert session["cost"] == pytest.approx(expected_cost)
    assert session["currency"] == "EUR"
    assert note["today"]["requests"] >= 2
    assert note["last"]["feature"] == "hover" and note["last"]["promptTokens"] == 800
    assert note["last"]["cost"] == pytest.approx(cost(HOVER_USAGE))
    assert note["state"] in ("ready", "busy")
    # The command returns the same summary for clients without custom notifications.
    summary = await show_usage(client)
    assert summary["session"]["cost"] == pytest.approx(expected_cost)


async def test_disk_cache_hit_counts_as_hit_not_tokens(client: LanguageClient, fake: FakeOpenAIServer,
                                                       tmp_path: Path) -> None:
    """A second server process on the same cache dir answers from disk: a hit, a saving, zero tokens."""
    fake.set_rules([{"reply": "math.pi * radius ** 2", "usage": COMPLETION_USAGE}])
    await start(client, fake, tmp_path, {"pricing": PRICE})
    uri = open_document(client, tmp_path / "shapes.py", SOURCE)
    assert (await client.text_document_inline_completion_async(inline_params(uri, 4, 11))).items
    async with another_server(client, fake, tmp_path, {"pricing": PRICE}) as second:
        uri2 = open_document(second, tmp_path / "shapes.py", SOURCE)
        assert (await second.text_document_inline_completion_async(inline_params(uri2, 4, 11))).items
        summary = await show_usage(second)
    assert len(model_calls(fake)) == 1
    session = summary["session"]
    assert session["cacheHits"] == 1
    assert (session["requests"], session["promptTokens"], session["completionTokens"], session["cost"]) == (0, 0, 0, 0)
    assert session["savedCost"] == pytest.approx(round(cost({**COMPLETION_USAGE, "cached_tokens": 0}), 6))
    # Usage persists per day in the cache dir: today's figure includes the first process's request.
    assert summary["today"]["requests"] == 1 and summary["today"]["cacheHits"] == 1


async def test_token_budget_stops_automatic_completions(client: LanguageClient, fake: FakeOpenAIServer,
                                                        tmp_path: Path) -> None:
    """A session budget of N tokens: completions run until N is spent, then pause, and the status says why."""
    fake.set_rules([{"reply": "math.pi", "usage": {"prompt_tokens": 400, "completion_tokens": 100}}])
    await start(client, fake, tmp_path, {"budget": {"unit": "tokens", "sessionLimit": 1000},
                                         "cache": {"enabled": False}})
    uri = open_document(client, tmp_path / "shapes.py", SOURCE)
    served = 0
    for attempt in range(4):
        # Each attempt types a character the suggestion does not start with: no typed-ahead reuse.
        change_document(client, uri, attempt + 2, 4, 11 + attempt, "z")
        result = await client.text_document_inline_completion_async(inline_params(uri, 4, 12 + attempt))
        served += bool(result.items)
    assert len(model_calls(fake)) == 2  # 2 x 500 tokens = the budget of 1000
    assert served == 2
    note = await latest_notification(client, lambda n: n["state"] == "paused")
    assert "session budget of 1000 tokens reached" in note["message"]
    assert note["budget"]["exceeded"] is True and note["budget"]["sessionUsed"] == 1000


@pytest.mark.parametrize("answer", ["Spend anyway", "Cancel"])
async def test_explicit_request_over_budget_asks_first(client: LanguageClient, fake: FakeOpenAIServer,
                                                       tmp_path: Path, answer: str) -> None:
    asked: list[str] = []

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def on_request(params: types.ShowMessageRequestParams) -> types.MessageActionItem:
        asked.append(params.message)
        return types.MessageActionItem(title=answer)

    fake.set_rules([{"reply": "math.pi", "usage": {"prompt_tokens": 900, "completion_tokens": 100}}])
    await start(client, fake, tmp_path, {"budget": {"unit": "tokens", "sessionLimit": 1000},
                                         "cache": {"enabled": False}})
    uri = open_document(client, tmp_path / "shapes.py", SOURCE)
    assert (await client.text_document_inline_completion_async(inline_params(uri, 4, 11))).items
    change_document(client, uri, 2, 4, 11, "z")
    # The budget is spent: an automatic request is refused without asking ...
    assert not (await client.text_document_inline_completion_async(inline_params(uri, 4, 12))).items
    assert asked == []
    # ... an explicit one (invoked by the user) asks, and obeys the answer.
    result = await client.text_document_inline_completion_async(inline_params(uri, 4, 12, automatic=False))
    assert len(asked) == 1 and "session budget of 1000 tokens reached" in asked[0]
    assert bool(result.items) is (answer == "Spend anyway")
    assert len(model_calls(fake)) == (2 if answer == "Spend anyway" else 1)


async def test_usage_shown_as_progress_where_asked(client: LanguageClient, fake: FakeOpenAIServer,
                                                   tmp_path: Path) -> None:
    """For clients without a status item (LSP4IJ), `status.progress` shows the figures as $/progress."""
    fake.set_rules([{"endpoint": "completions", "reply": "math.pi * radius ** 2", "usage": COMPLETION_USAGE,
                     "delay_ms": 1500}])  # long enough for the watcher to see the call in flight
    await start(client, fake, tmp_path, {"pricing": PRICE, "status": {"progress": True}})
    uri = open_document(client, tmp_path / "area.py", SOURCE)
    await client.text_document_inline_completion_async(inline_params(uri, 4, 11))
    deadline = asyncio.get_running_loop().time() + 5
    ended: list[Any] = []
    while not ended and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        ended = [r for reports in client.progress_reports.values() for r in reports
                 if isinstance(r, types.WorkDoneProgressEnd)]
    assert ended, client.progress_reports
    assert ended[-1].message is not None and "1,209 tokens" in ended[-1].message
    assert "EUR" in ended[-1].message
