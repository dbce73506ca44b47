"""The inline-diff preview round trip: resolve writes a marked block, Accept / Reject lenses finish it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.edits import apply_text_edits
from tests.e2e.conftest import open_document, start
from tests.fakes.openai_server import FakeOpenAIServer

# CRLF line ends and characters outside the BMP: "byte for byte" has to survive both.
SOURCE = "def greet(name):\r\n    msg = 'héllo ' + name  # 👋\r\n    return msg\r\n\r\nprint(greet('wörld'))\r\n"
SELECTION = types.Range(start=types.Position(1, 0), end=types.Position(3, 0))
REPLACEMENT = "    msg = f'héllo {name}'  # 👋\r\n    return msg.strip()\r\n"
PROPOSED = SOURCE.replace("    msg = 'héllo ' + name  # 👋\r\n    return msg\r\n", REPLACEMENT)


async def execute(client: LanguageClient, params: types.ExecuteCommandParams) -> Any:
    return await client.workspace_execute_command_async(params)


class Buffer:
    """The client's copy of the document: applies server edits and reports them with didChange."""

    def __init__(self, client: LanguageClient, uri: str, text: str, encoding: str) -> None:
        self.client, self.uri, self.text, self.encoding, self.version = client, uri, text, encoding, 1

    def apply(self, edit: types.WorkspaceEdit | None) -> None:
        assert edit is not None
        [change] = edit.document_changes or []
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.version == self.version  # never applied to another version
        self.text = apply_text_edits(self.text, list(change.edits), self.encoding)  # type: ignore[arg-type]
        self.version += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=self.text)]))


async def propose(client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> tuple[Buffer, list[Any]]:
    """Resolve a refactor in inline-diff mode, write the block, and return the lens commands."""
    fake.set_rules([{"reply": json.dumps({"replacement": REPLACEMENT, "explanation": "f-string"})}])
    init = await start(client, fake, tmp_path, {"codeActions": {"preview": "inlineDiff"}})
    uri = open_document(client, tmp_path / "greet.py", SOURCE)
    (tmp_path / "greet.py").write_bytes(SOURCE.encode())
    buffer = Buffer(client, uri, SOURCE, str(init.capabilities.position_encoding or "utf-16"))

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def on_apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        buffer.apply(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)

    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=SELECTION,
        context=types.CodeActionContext(diagnostics=[])))
    [refactor] = [a for a in actions or [] if a.title == "Ghostwriter: Refactor selection"]
    assert isinstance(refactor, types.CodeAction)
    resolved = await client.code_action_resolve_async(refactor)
    buffer.apply(resolved.edit)
    assert "<<<<<<< ghostwriter" in buffer.text and ">>>>>>> ghostwriter" in buffer.text
    assert "-     msg = 'héllo ' + name  # 👋\r\n" in buffer.text
    assert "+     msg = f'héllo {name}'  # 👋\r\n" in buffer.text
    assert buffer.text.startswith("def greet(name):\r\n<<<<<<< ghostwriter")  # lines around it untouched
    assert buffer.text.endswith("\r\n\r\nprint(greet('wörld'))\r\n")
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    commands = [lens.command.command for lens in lenses or [] if lens.command]
    assert commands == ["ghostwriter.acceptDiff", "ghostwriter.rejectDiff"]
    assert lenses is not None and lenses[0].range.start.line == 1
    arguments = list(lenses[0].command.arguments or []) if lenses[0].command else []
    return buffer, arguments


async def test_accept_applies_exactly_the_proposal(client: LanguageClient, fake: FakeOpenAIServer,
                                                   tmp_path: Path) -> None:
    buffer, arguments = await propose(client, fake, tmp_path)
    result = await execute(client, types.ExecuteCommandParams(
        command="ghostwriter.acceptDiff", arguments=arguments))
    assert result["applied"] is True
    assert buffer.text == PROPOSED
    assert not await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=buffer.uri)))


async def test_reject_restores_the_original_byte_for_byte(client: LanguageClient, fake: FakeOpenAIServer,
                                                          tmp_path: Path) -> None:
    buffer, arguments = await propose(client, fake, tmp_path)
    result = await execute(client, types.ExecuteCommandParams(
        command="ghostwriter.rejectDiff", arguments=arguments))
    assert result["applied"] is True
    assert buffer.text.encode() == SOURCE.encode()
    # A second decision on the same proposal does nothing.
    again = await execute(client, types.ExecuteCommandParams(
        command="ghostwriter.acceptDiff", arguments=arguments))
    assert again["applied"] is False and buffer.text == SOURCE


async def test_saving_with_a_pending_proposal_rejects_it_first(client: LanguageClient, fake: FakeOpenAIServer,
                                                               tmp_path: Path) -> None:
    buffer, _ = await propose(client, fake, tmp_path)
    edits = await client.text_document_will_save_wait_until_async(types.WillSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=buffer.uri), reason=types.TextDocumentSaveReason.Manual))
    saved = apply_text_edits(buffer.text, list(edits or []), buffer.encoding)
    assert saved == SOURCE  # the markers never reach the disk
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=buffer.uri)))
    assert not lenses


async def test_the_client_is_asked_to_refresh_lenses_once_the_block_arrived(
        client: LanguageClient, fake: FakeOpenAIServer, tmp_path: Path) -> None:
    buffer, arguments = await propose(client, fake, tmp_path)
    await client.text_document_code_lens_async(types.CodeLensParams(  # a round trip: the refresh came before
        text_document=types.TextDocumentIdentifier(uri=buffer.uri)))
    workspace = client.capabilities.workspace if client.capabilities else None  # type: ignore[attr-defined]
    supported = bool(workspace and workspace.code_lens and workspace.code_lens.refresh_support)
    assert client.lens_refreshes == (1 if supported else 0)  # type: ignore[attr-defined]
