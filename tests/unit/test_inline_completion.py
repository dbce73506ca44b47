"""InlineCompletion on real services and a loopback endpoint: served, stale, gated, reused, forgotten."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from lsprotocol import types

from features.inline_completion import InlineCompletion
from lsp_server.server import GhostwriterServer
from lsp_server.settings import resolve
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.rules import Rule

URI = "file:///work/calc.py"
TEXT = "def add(a, b):\n    return \n"


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer([Rule(reply="a + b")], models=["coder"]) as server:
        yield server


@pytest.fixture
async def feature(fake: FakeOpenAIServer, tmp_path) -> AsyncIterator[InlineCompletion]:  # type: ignore[no-untyped-def]
    services = GhostwriterServer().services
    settings, errors = resolve({"backend": {"kind": "openai", "baseUrl": fake.url, "model": "coder"},
                                "completion": {"debounceMs": 0, "fimTemplate": "qwen", "kvWarmup": False},
                                "cache": {"enabled": False, "dir": str(tmp_path)}})
    assert errors == []
    await services.apply(settings, errors)
    services.documents.open(types.TextDocumentItem(uri=URI, language_id="python", version=1, text=TEXT))
    feature = InlineCompletion(services)
    yield feature
    await feature.shutdown()
    await services.close()


def request(line: int, character: int, automatic: bool = True) -> types.InlineCompletionParams:
    kind = types.InlineCompletionTriggerKind.Automatic if automatic else types.InlineCompletionTriggerKind.Invoked
    return types.InlineCompletionParams(text_document=types.TextDocumentIdentifier(uri=URI),
                                        position=types.Position(line=line, character=character),
                                        context=types.InlineCompletionContext(trigger_kind=kind))


def completions(fake: FakeOpenAIServer) -> int:
    return sum(1 for r in fake.requests if r.path.endswith("/completions"))


async def test_a_suggestion_is_served_with_its_range(feature: InlineCompletion, fake: FakeOpenAIServer) -> None:
    result = await feature.handle(request(1, 11), None)
    assert [item.insert_text for item in result.items] == ["a + b"]
    assert result.items[0].range == types.Range(start=types.Position(line=1, character=11),
                                                end=types.Position(line=1, character=11))
    assert completions(fake) == 1


async def test_an_answer_for_an_older_version_is_not_computed(feature: InlineCompletion,
                                                              fake: FakeOpenAIServer) -> None:
    assert (await feature.handle(request(1, 11), wanted_version=0)).items == []
    assert completions(fake) == 0


async def test_mid_identifier_requests_are_gated_without_a_model_call(feature: InlineCompletion,
                                                                      fake: FakeOpenAIServer) -> None:
    assert (await feature.handle(request(0, 5), None)).items == []  # inside "add"
    assert completions(fake) == 0 and sum(feature.stats.gated.values()) == 1


async def test_typing_into_the_suggestion_is_served_without_a_new_call(feature: InlineCompletion,
                                                                       fake: FakeOpenAIServer) -> None:
    await feature.handle(request(1, 11), None)
    typed = TEXT.replace("return ", "return a ")
    feature.services.documents.open(types.TextDocumentItem(uri=URI, language_id="python", version=2, text=typed))
    result = await feature.handle(request(1, 13), None)
    assert [item.insert_text for item in result.items] == ["+ b"]
    assert completions(fake) == 1


async def test_closing_the_document_forgets_its_jobs(feature: InlineCompletion) -> None:
    await feature.handle(request(1, 11), None)
    feature.services.documents.close(URI)
    feature.document_closed(URI)
    assert list(feature.book.jobs) == [] and URI not in feature.planner.window_hints
