"""Planning one completion call: the FIM prompt, its budget and stop rule, and refusal when the text moved."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from lsprotocol import types

from features.completion_prompt import Planner, plan_completion
from lsp_server.server import GhostwriterServer
from lsp_server.settings import resolve

URI = "file:///work/calc.py"
TEXT = 'def add(a, b):\n    """Add two numbers\n    return a + b\n'


@pytest.fixture
async def planner() -> AsyncIterator[Planner]:
    services = GhostwriterServer().services
    settings, errors = resolve({"completion": {"fimTemplate": "qwen", "maxTokens": 48, "multilineMaxTokens": 200},
                                "cache": {"enabled": False}})
    await services.apply(settings, errors)
    yield Planner(services)
    await services.close()


@pytest.mark.parametrize(("multiline", "closer", "max_tokens", "stops"), [
    (False, "", 48, ["\n"]),
    (True, "", 200, []),
    (False, '"""', 48, ["\n", '"""']),  # prose: the closing quotes already present end it
])
async def test_plan(planner: Planner, multiline: bool, closer: str, max_tokens: int, stops: list[str]) -> None:
    document = planner.services.documents.open(
        types.TextDocumentItem(uri=URI, language_id="python", version=1, text=TEXT))
    offset = TEXT.index("numbers") + len("numbers")
    plan = await plan_completion(planner, document, offset, multiline, 1, prose=bool(closer), closer=closer)
    assert plan is not None
    prompt = plan.request.prompt or ""
    assert prompt.startswith("<|") and prompt.endswith("<|fim_middle|>")
    before, after = prompt.split("<|fim_suffix|>")
    assert before.endswith('"""Add two numbers') and after.startswith("\n    return a + b")
    assert plan.request.max_tokens == max_tokens
    assert [s for s in plan.request.stop if not s.startswith("<|")] == stops
    assert planner.window_hints[URI] == plan.prompt.window_start_line  # kept for the next keystroke


async def test_no_plan_when_the_document_moved_on(planner: Planner) -> None:
    document = planner.services.documents.open(
        types.TextDocumentItem(uri=URI, language_id="python", version=4, text=TEXT))
    assert await plan_completion(planner, document, 10, False, version=3) is None
