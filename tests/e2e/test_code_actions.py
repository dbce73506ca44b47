"""textDocument/codeAction, codeAction/resolve and ghostwriter.applyAction over real stdio."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.edits import apply_text_edits
from tests.e2e.conftest import capabilities_for, change_document, model_calls, open_document, start
from tests.fakes.openai_server import FakeOpenAIServer

SOURCE = "import subprocess\n\n\ndef área(r):\n    return 3.14 * r * r  # 😋\n\n\nprint(área(2))\n"
WITH_DOCSTRING = ('def área(r):\n    """The area of a circle of radius `r`."""\n'
                  "    return 3.14 * r * r  # 😋\n")
EXPECTED = SOURCE.replace("def área(r):\n    return 3.14 * r * r  # 😋\n", WITH_DOCSTRING)
CURSOR = types.Range(start=types.Position(4, 8), end=types.Position(4, 8))


@pytest.fixture(autouse=True)
def code_actions_with_commands_stay_code_actions(client: LanguageClient) -> None:
    """lsprotocol structures a CodeAction that carries a Command as a Command; pick by the `command` field."""
    converter = client.protocol._converter

    def structure(obj: Any, _: Any) -> types.Command | types.CodeAction:
        kind = types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        return converter.structure(obj, kind)  # type: ignore[no-any-return,return-value]

    converter.register_structure_hook(typing.Union[types.Command, types.CodeAction], structure)  # noqa: UP007


def reply(replacement: str, explanation: str = "done") -> str:
    return "```json\n" + json.dumps({"replacement": replacement, "explanation": explanation}) + "\n```"


def action_params(uri: str, selection: types.Range = CURSOR,
                  diagnostics: list[types.Diagnostic] | None = None) -> types.CodeActionParams:
    return types.CodeActionParams(text_document=types.TextDocumentIdentifier(uri=uri), range=selection,
                                  context=types.CodeActionContext(diagnostics=diagnostics or []))


async def list_actions(client: LanguageClient, params: types.CodeActionParams) -> dict[str, types.CodeAction]:
    result = await client.text_document_code_action_async(params)
    return {a.title: a for a in result or [] if isinstance(a, types.CodeAction)}


async def execute(client: LanguageClient, params: types.ExecuteCommandParams) -> Any:
    return await client.workspace_execute_command_async(params)


def encoding_of(init: types.InitializeResult) -> str:
    return str(init.capabilities.position_encoding or "utf-16")


def document_edit(edit: types.WorkspaceEdit | None) -> types.TextDocumentEdit:
    assert edit is not None and edit.changes is None
    [change] = edit.document_changes or []
    assert isinstance(change, types.TextDocumentEdit)
    return change


async def test_actions_are_listed_without_model_calls(client: LanguageClient, fake: FakeOpenAIServer,
                                                      tmp_path: Path) -> None:
    await start(client, fake, tmp_path)
    uri = open_document(client, tmp_path / "circle.py", SOURCE)
    selection = types.Range(start=types.Position(4, 4), end=types.Position(4, 23))
    diagnostic = types.Diagnostic(range=selection, message="Magic number 3.14", source="lint")
    actions = await list_actions(client, action_params(uri, selection, [diagnostic]))
    kinds = {title: action.kind for title, action in actions.items()}
    assert kinds == {
        "Ghostwriter: Explain selection": types.CodeActionKind.Refactor,
        "Ghostwriter: Refactor selection": types.CodeActionKind.RefactorRewrite,
        "Ghostwriter: Add docstring to área": types.CodeActionKind.RefactorRewrite,
        "Ghostwriter: Write tests for área": types.CodeActionKind.Source,
        "Ghostwriter: Fix “Magic number 3.14”": types.CodeActionKind.QuickFix,
    }
    fix = actions["Ghostwriter: Fix “Magic number 3.14”"]
    assert list(fix.diagnostics or []) == [diagnostic] and fix.edit is None
    assert all(isinstance(a.data, dict) and a.data["version"] == 1 for a in actions.values())
    only = action_params(uri, selection, [diagnostic])
    only.context.only = [types.CodeActionKind.QuickFix]
    assert list(await list_actions(client, only)) == ["Ghostwriter: Fix “Magic number 3.14”"]
    assert model_calls(fake) == []


async def test_resolve_returns_a_versioned_minimal_diff(client: LanguageClient, fake: FakeOpenAIServer,
                                                        tmp_path: Path) -> None:
    fake.set_rules([{"contains": "docstring", "reply": reply(WITH_DOCSTRING)}])
    init = await start(client, fake, tmp_path, {"codeActions": {"preview": "changeAnnotation"}})
    uri = open_document(client, tmp_path / "circle.py", SOURCE)
    action = (await list_actions(client, action_params(uri)))["Ghostwriter: Add docstring to área"]
    assert model_calls(fake) == []
    resolved = await client.code_action_resolve_async(action)
    change = document_edit(resolved.edit)
    assert change.text_document.version == 1
    [edit] = change.edits  # an insertion of one line, not a whole-file replace
    assert isinstance(edit, (types.TextEdit, types.AnnotatedTextEdit))
    assert edit.new_text == '    """The area of a circle of radius `r`."""\n'
    assert apply_text_edits(SOURCE, list(change.edits), encoding_of(init)) == EXPECTED  # type: ignore[arg-type]
    if client.profile == "visual_studio_code":  # type: ignore[attr-defined]
        assert isinstance(edit, types.AnnotatedTextEdit)
        annotation = (resolved.edit.change_annotations or {})[edit.annotation_id]  # type: ignore[union-attr]
        assert annotation.needs_confirmation is True
    assert len(model_calls(fake)) == 1


async def test_resolve_for_an_outdated_version_is_refused(client: LanguageClient, fake: FakeOpenAIServer,
                                                          tmp_path: Path) -> None:
    fake.set_rules([{"reply": reply(WITH_DOCSTRING)}])
    await start(client, fake, tmp_path)
    uri = open_document(client, tmp_path / "circle.py", SOURCE)
    action = (await list_actions(client, action_params(uri)))["Ghostwriter: Add docstring to área"]
    change_document(client, uri, 2, 0, 0, "# edited\n")
    resolved = await client.code_action_resolve_async(action)
    assert resolved.edit is None
    assert resolved.disabled is not None and "changed" in resolved.disabled.reason
    assert model_calls(fake) == []


async def test_malformed_answer_is_a_message_not_an_edit(client: LanguageClient, fake: FakeOpenAIServer,
                                                         tmp_path: Path) -> None:
    fake.set_rules([{"reply": "Sorry, I can't help with that."}])
    await start(client, fake, tmp_path)
    uri = open_document(client, tmp_path / "circle.py", SOURCE)
    action = (await list_actions(client, action_params(uri)))["Ghostwriter: Add docstring to área"]
    resolved = await client.code_action_resolve_async(action)
    assert resolved.edit is None and resolved.disabled is not None
    assert "did not contain a replacement" in resolved.disabled.reason
    assert any("did not contain a replacement" in m.message for m in client.messages)


async def test_dangerous_code_is_flagged(client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    fake.set_rules([{"reply": reply("subprocess.run(f'echo {área(2)}', shell=True)\n")}])
    await start(client, fake, tmp_path, {"codeActions": {"preview": "changeAnnotation"}})
    uri = open_document(client, tmp_path / "circle.py", SOURCE)
    selection = types.Range(start=types.Position(7, 0), end=types.Position(8, 0))
    action = (await list_actions(client, action_params(uri, selection)))["Ghostwriter: Refactor selection"]
    resolved = await client.code_action_resolve_async(action)
    assert resolved.title == "Ghostwriter: Refactor selection ⚠ uses shell=True"
    assert resolved.edit is not None
    for annotation in (resolved.edit.change_annotations or {}).values():
        assert "shell=True" in annotation.label


async def test_apply_command_for_clients_without_resolve(client: LanguageClient, fake: FakeOpenAIServer,
                                                         tmp_path: Path) -> None:
    fake.set_rules([{"contains": "PEP 8", "reply": reply("print(área(2.0))\n")}])
    applied: list[types.ApplyWorkspaceEditParams] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def on_apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    capabilities = capabilities_for(client.profile)  # type: ignore[attr-defined]
    assert capabilities.text_document is not None and capabilities.text_document.code_action is not None
    capabilities.text_document.code_action.resolve_support = None
    init = await start(client, fake, tmp_path, {"codeActions": {"preview": "changeAnnotation"}},
                       capabilities=capabilities)
    uri = open_document(client, tmp_path / "circle.py", SOURCE)
    selection = types.Range(start=types.Position(7, 0), end=types.Position(8, 0))
    action = (await list_actions(client, action_params(uri, selection)))["Ghostwriter: Refactor selection"]
    assert action.command is not None and action.command.command == "ghostwriter.applyAction"
    arguments: list[Any] = [*(action.command.arguments or []), "pep8"]  # a named rule as the instruction
    result = await execute(client, types.ExecuteCommandParams(
        command=action.command.command, arguments=arguments))
    assert result["applied"] is True
    change = document_edit(applied[0].edit)
    assert change.text_document.version == 1
    edited = apply_text_edits(SOURCE, list(change.edits), encoding_of(init))  # type: ignore[arg-type]
    assert edited == SOURCE.replace("(2)", "(2.0)")
    # Long generations report work-done progress where the client supports it.
    assert any(isinstance(r[0], types.WorkDoneProgressBegin) and isinstance(r[-1], types.WorkDoneProgressEnd)
               for r in client.progress_reports.values() if r)


async def test_explain_selection_is_shown_as_a_message(client: LanguageClient, fake: FakeOpenAIServer,
                                                       tmp_path: Path) -> None:
    fake.set_rules([{"contains": "Explain", "reply": "Prints the area of a circle of radius 2."}])
    await start(client, fake, tmp_path)
    uri = open_document(client, tmp_path / "circle.py", SOURCE)
    selection = types.Range(start=types.Position(7, 0), end=types.Position(8, 0))
    action = (await list_actions(client, action_params(uri, selection)))["Ghostwriter: Explain selection"]
    assert action.command is not None and model_calls(fake) == []
    result = await execute(client, types.ExecuteCommandParams(
        command=action.command.command, arguments=action.command.arguments))
    assert result["markdown"] == "Prints the area of a circle of radius 2."
    assert any(m.type == types.MessageType.Info and "radius 2" in m.message for m in client.messages)
