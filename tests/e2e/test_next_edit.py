"""Next-edit suggestions over real stdio: ghostwriter/nextEdit, textDocument/copilotInlineEdit, the
outcome notification and the "Apply next edit" code action, against the loopback fake model."""

from __future__ import annotations

import asyncio
import typing
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server import protocol
from lsp_server.edits import apply_text_edits
from tests.e2e.conftest import change_document, model_calls, open_document, send_raw_request, start
from tests.fakes.openai_server import FakeOpenAIServer

START, END = "<|editable_region_start|>", "<|editable_region_end|>"
SOURCE = ("def area(width, height):\n"
          "    return width * height\n"
          "\n"
          "\n"
          "print(area(2, 3))\n")
RENAMED = SOURCE.replace("def area(width, height)", "def area(w, height)")  # the user's edit
EXPECTED = RENAMED.replace("return width * height", "return w * height")  # the next edit


def rewrite(region: str) -> str:
    return f"{START}\n{region}{END}"


def convert(value: Any) -> Any:
    """A raw response object (namedtuples from pygls) as plain dicts and lists."""
    if hasattr(value, "_asdict"):
        return {key: convert(item) for key, item in value._asdict().items()}
    if isinstance(value, dict):
        return {key: convert(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [convert(item) for item in value]
    return value


def edits_of(raw: list[dict[str, Any]], text_key: str = "newText") -> list[types.TextEdit]:
    return [types.TextEdit(range=types.Range(start=types.Position(**e["range"]["start"]),
                                             end=types.Position(**e["range"]["end"])), new_text=e[text_key])
            for e in raw]


async def next_edit(client: LanguageClient, uri: str, version: int, line: int, character: int,
                    method: str = protocol.NEXT_EDIT) -> Any:
    params = {"textDocument": {"uri": uri, "version": version}, "position": {"line": line, "character": character},
              "trigger": "edit"}
    return convert(await send_raw_request(client, method, params))


async def renamed_document(client: LanguageClient, tmp_path: Path) -> str:
    uri = open_document(client, tmp_path / "shapes.py", SOURCE)
    change_document(client, uri, 2, 0, 9, "w", end=(0, 14))  # width → w in the signature
    return uri


@pytest.fixture(autouse=True)
def code_actions_with_commands_stay_code_actions(client: LanguageClient) -> None:
    converter = client.protocol._converter

    def structure(obj: Any, _: Any) -> types.Command | types.CodeAction:
        kind = types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        return converter.structure(obj, kind)  # type: ignore[no-any-return,return-value]

    converter.register_structure_hook(typing.Union[types.Command, types.CodeAction], structure)  # noqa: UP007


async def stats(client: LanguageClient) -> dict[str, Any]:
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=protocol.CMD_NEXT_EDIT_STATS, arguments=[]))
    return typing.cast(dict[str, Any], convert(result))


@pytest.mark.e2e
async def test_edit_then_request_gives_edits_that_make_the_right_buffer(
        client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    # The rule fires only when the prompt carries the user's edit as a diff hunk.
    fake.set_rules([{"contains": "-def area(width, height):\n+def area(w, height):", "endpoint": "chat",
                     "reply": rewrite(EXPECTED)}])
    await start(client, fake, tmp_path)
    uri = await renamed_document(client, tmp_path)
    result = await next_edit(client, uri, 2, 1, 4)
    assert result is not None
    assert result["textDocument"] == {"uri": uri, "version": 2}
    assert apply_text_edits(RENAMED, edits_of(result["edits"])) == EXPECTED
    # range/text is the rewritten line; the jump goes to the first edit.
    assert result["range"] == {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}
    assert result["text"] == "    return w * height\n"
    assert result["jumpTo"] == result["edits"][0]["range"]["start"]
    (edit,) = result["edits"]  # minimal: "width" → "w" deletes "idth"
    assert edit["range"] == {"start": {"line": 1, "character": 12}, "end": {"line": 1, "character": 16}}
    call = model_calls(fake)[-1]
    assert call.path.endswith("/chat/completions") and "<|user_cursor|>" in call.body["messages"][-1]["content"]


@pytest.mark.e2e
async def test_a_request_for_an_older_version_or_a_buffer_changed_meanwhile_gets_null(
        client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    fake.set_rules([{"endpoint": "chat", "reply": rewrite(EXPECTED), "delay_ms": 1500}])
    await start(client, fake, tmp_path)
    uri = await renamed_document(client, tmp_path)
    assert await next_edit(client, uri, 1, 1, 4) is None  # the client's view is older than the server's
    assert not model_calls(fake)
    # The buffer changes while the model answers: the answer, computed for version 2, is dropped.
    pending = asyncio.ensure_future(next_edit(client, uri, 2, 1, 4))
    await asyncio.sleep(0.5)
    change_document(client, uri, 3, 4, 0, "# done\n")
    assert await pending is None
    assert (await stats(client))["suggested"] == 0


@pytest.mark.e2e
async def test_outcome_is_recorded_and_a_rejected_edit_is_not_offered_again(
        client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    fake.set_rules([{"endpoint": "chat", "reply": rewrite(EXPECTED)}])
    await start(client, fake, tmp_path, {"cache": {"enabled": False}})
    uri = await renamed_document(client, tmp_path)
    first = await next_edit(client, uri, 2, 1, 4)
    assert first is not None
    client.protocol.notify(protocol.NEXT_EDIT_OUTCOME, {"id": first["id"], "outcome": "rejected"})
    assert await next_edit(client, uri, 2, 1, 4) is None
    counted = await stats(client)
    assert counted["rejected"] == 1 and counted["suggested"] == 1
    assert len(model_calls(fake)) == 2  # asked again, but the same edit is not offered twice


@pytest.mark.e2e
async def test_copilot_inline_edit_shape_and_its_accept_command(
        client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    fake.set_rules([{"endpoint": "chat", "reply": rewrite(EXPECTED)}])
    await start(client, fake, tmp_path)
    uri = await renamed_document(client, tmp_path)
    result = await next_edit(client, uri, 2, 1, 4, method=protocol.COPILOT_INLINE_EDIT)
    (edit,) = result["edits"]
    assert edit["textDocument"] == {"uri": uri, "version": 2}
    assert apply_text_edits(RENAMED, edits_of([edit], "text")) == EXPECTED
    assert edit["command"]["command"] == protocol.CMD_NEXT_EDIT_ACCEPTED
    client.protocol.notify(protocol.DID_SHOW_INLINE_EDIT, {"item": {"command": edit["command"]}})
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=edit["command"]["command"], arguments=edit["command"]["arguments"]))
    counted = await stats(client)
    assert counted["accepted"] == 1 and counted["shown"] == 1
    # Nothing to suggest: the copilot shape answers an empty list rather than null.
    fake.set_rules([{"endpoint": "chat", "reply": rewrite(RENAMED)}])
    assert await next_edit(client, uri, 2, 3, 0, method=protocol.COPILOT_INLINE_EDIT) == {"edits": []}


@pytest.mark.e2e
async def test_plain_insertion_at_the_cursor_is_left_to_inline_completion(
        client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    typed = RENAMED.replace("print(area(2, 3))", "print(area(2, 3))\nprint(")
    fake.set_rules([{"endpoint": "chat", "reply": rewrite(typed.replace("print(\n", "print(area(4, 5))\n"))}])
    await start(client, fake, tmp_path)
    uri = await renamed_document(client, tmp_path)
    change_document(client, uri, 3, 5, 0, "print(\n")
    assert await next_edit(client, uri, 3, 5, 6) is None
    assert len(model_calls(fake)) == 1


@pytest.mark.e2e
async def test_jetbrains_code_action_applies_the_edit_computed_on_pause(
        client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    fake.set_rules([{"endpoint": "chat", "reply": rewrite(EXPECTED)}])
    await start(client, fake, tmp_path, {"nextEdit": {"computeOnPause": "on", "pauseMs": 50}})
    uri = await renamed_document(client, tmp_path)
    params = types.CodeActionParams(text_document=types.TextDocumentIdentifier(uri=uri),
                                    range=types.Range(start=types.Position(0, 10), end=types.Position(0, 10)),
                                    context=types.CodeActionContext(diagnostics=[]))
    action = None
    for _ in range(100):  # the suggestion is computed in the background once typing pauses
        listed = await client.text_document_code_action_async(params) or []
        action = next((a for a in listed if isinstance(a, types.CodeAction)
                       and a.title.startswith("Apply next edit")), None)
        if action is not None:
            break
        await asyncio.sleep(0.1)
    assert action is not None and action.kind == types.CodeActionKind.QuickFix
    assert action.edit is not None and action.edit.document_changes
    change = action.edit.document_changes[0]
    assert isinstance(change, types.TextDocumentEdit) and change.text_document.version == 2
    assert apply_text_edits(RENAMED, [e for e in change.edits if isinstance(e, types.TextEdit)]) == EXPECTED
    assert action.command is not None and action.command.command == protocol.CMD_NEXT_EDIT_ACCEPTED
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=action.command.command, arguments=action.command.arguments))
    assert (await stats(client))["accepted"] == 1
    # Once the document moves on, the suggestion for version 2 is not offered any more.
    fake.set_rules([{"endpoint": "chat", "reply": "no region here"}])
    change_document(client, uri, 3, 4, 0, "# note\n")
    listed = await client.text_document_code_action_async(params) or []
    assert not [a for a in listed if a.title.startswith("Apply next edit")]
