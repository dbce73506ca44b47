"""CodeActions over real services: which actions are offered, and that a stale edit is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from lsprotocol import types

from features.code_actions import STALE, CodeActions
from lsp_server.server import GhostwriterServer

URI = "file:///work/calc.py"
TEXT = "def add(a, b):\n    return a + b\n"


@pytest.fixture
async def actions() -> AsyncIterator[CodeActions]:
    services = GhostwriterServer().services
    services.documents.open(types.TextDocumentItem(uri=URI, language_id="python", version=3, text=TEXT))
    yield CodeActions(services)
    await services.close()


def asked(start: tuple[int, int], end: tuple[int, int], only: list[str] | None = None) -> types.CodeActionParams:
    return types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=URI),
        range=types.Range(start=types.Position(*start), end=types.Position(*end)),
        context=types.CodeActionContext(diagnostics=[], only=only))


@pytest.mark.parametrize(("start", "end", "only", "expected"), [
    ((1, 4), (1, 16), None, ["explain", "refactor", "docstring", "tests"]),  # a selection inside a function
    ((1, 4), (1, 4), None, ["docstring", "tests"]),  # no selection: only scope actions
    ((1, 0), (2, 0), None, ["explain", "refactor", "docstring", "tests"]),  # whole lines, from column 1
    ((0, 0), (0, 0), None, ["docstring", "tests"]),  # column 1 of the def line
    ((1, 4), (1, 16), ["quickfix"], []),
    ((1, 4), (1, 16), ["source"], ["tests"]),
])
def test_offered_actions(actions: CodeActions, start: tuple[int, int], end: tuple[int, int],
                         only: list[str] | None, expected: list[str]) -> None:
    offered = actions.list(asked(start, end, only))
    assert [a.data["action"] for a in offered] == expected  # type: ignore[index]
    assert all(a.data["version"] == 3 for a in offered)  # type: ignore[index]


def test_no_actions_for_an_unknown_document(actions: CodeActions) -> None:
    params = asked((0, 0), (0, 3))
    params.text_document = types.TextDocumentIdentifier(uri="file:///elsewhere.py")
    assert actions.list(params) == []


async def test_an_action_offered_for_an_older_version_is_refused(actions: CodeActions) -> None:
    data = actions.list(asked((1, 4), (1, 16)))[1].data
    assert isinstance(data, dict)
    outcome = await actions.runner.run({**data, "version": 2})
    assert outcome.edit is None and outcome.reason == STALE
