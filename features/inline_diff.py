"""Inline-diff preview for clients without an edit preview: the proposal is written into the buffer.

The affected lines are replaced by a marked block: a start marker, the diff (`- ` removed, `+ `
added, `  ` unchanged lines) and an end marker. Accept / Reject code lenses sit on the start marker.
The session keeps the exact original and proposed text, so Accept writes exactly the proposal
and Reject restores the original byte for byte, whatever the block's lines look like. Every edit
is versioned against the document version the server last saw.
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from features.edit_parsing import danger_note
from lsp_server import protocol
from lsp_server.command_args import uri_and_id
from lsp_server.edits import minimal_text_edits, versioned_edit
from lsp_server.services import Services

if TYPE_CHECKING:
    from lsp_server.documents import OpenDocument

START = "<<<<<<< ghostwriter {id}: proposed change ({note})"
END = ">>>>>>> ghostwriter {id}"
ANNOTATION_ID = "ghostwriter"


@dataclass
class Session:
    id: str
    uri: str
    original: str
    proposal: str
    eol: str
    trailing_eol: bool  # the block ends with a line break (it did not reach a final line without one)


def line_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) to whole lines, line breaks included."""
    line_start = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start)) + 1
    if end > start and text[end - 1] in "\r\n" and not text.startswith("\n", end):
        return line_start, end
    breaks = [i for i in (text.find("\n", end), text.find("\r", end)) if i >= 0]
    if not breaks:
        return line_start, len(text)
    cut = min(breaks)
    return line_start, cut + (2 if text.startswith("\r\n", cut) else 1)


def render(session: Session, note: str) -> str:
    """The marked block that stands in the buffer while the proposal awaits a decision."""
    old_lines = session.original.splitlines()
    new_lines = session.proposal.splitlines()
    body = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes():
        if tag == "equal":
            body += ["  " + line for line in old_lines[i1:i2]]
            continue
        body += ["- " + line for line in old_lines[i1:i2]]
        body += ["+ " + line for line in new_lines[j1:j2]]
    lines = [START.format(id=session.id, note=note or "Accept / Reject above"), *body, END.format(id=session.id)]
    return session.eol.join(lines) + (session.eol if session.trailing_eol else "")


def _eol(text: str) -> str:
    for candidate in ("\r\n", "\n", "\r"):
        if candidate in text:
            return candidate
    return "\n"


class InlineDiffs:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.sessions: dict[str, Session] = {}
        self._ids = itertools.count(1)
        self.lenses_moved: set[str] = set()
        """Documents whose Accept / Reject lenses changed: the client is asked to refresh them once
        the edit that moved them has arrived (before it, the lenses would point at the old text)."""

    @property
    def encoding(self) -> str:
        return self.services.client.encoding

    def propose(self, document: OpenDocument, version: int, start: int, end: int, replacement: str,
                note: str = "") -> types.WorkspaceEdit:
        """The edit that writes the marked block for replacing [start, end) with `replacement`."""
        text = document.text
        span_start, span_end = line_span(text, start, end)
        original = text[span_start:span_end]
        proposal = text[span_start:start] + replacement + text[end:span_end]
        trailing = original.endswith(("\n", "\r")) or span_end < len(text)
        session = Session(f"gw{next(self._ids)}", document.uri, original, proposal, _eol(text), trailing)
        self.sessions[session.id] = session
        self.lenses_moved.add(document.uri)
        block = render(session, note)
        new_text = text[:span_start] + block + text[span_end:]
        return versioned_edit(document.uri, version, minimal_text_edits(text, new_text, self.encoding))

    def locate(self, text: str, session: Session) -> tuple[int, int] | None:
        """Where the session's block stands in `text` now (from its start to after its end marker)."""
        head = START.format(id=session.id, note="")[:-2]  # the note may differ; match up to "("
        start = text.find(head)
        tail = END.format(id=session.id)
        end = text.find(tail, start) if start >= 0 else -1
        if end < 0:
            return None
        end += len(tail)
        if session.trailing_eol and text.startswith(session.eol, end):
            end += len(session.eol)
        return start, end

    def decide(self, uri: str, session_id: str, accept: bool) -> types.WorkspaceEdit | str:
        """The versioned edit that accepts or rejects a block, or why there is none."""
        session = self.sessions.get(session_id)
        document = self.services.documents.get(uri)
        if session is None or document is None or session.uri != uri:
            return "This proposal is no longer pending."
        where = self.locate(document.text, session)
        if where is None:
            self.sessions.pop(session_id, None)
            return "The proposal's markers were removed from the document; nothing to do."
        chosen = session.proposal if accept else session.original
        new_text = document.text[: where[0]] + chosen + document.text[where[1] :]
        self.sessions.pop(session_id, None)
        self.lenses_moved.add(uri)
        return versioned_edit(uri, document.version, minimal_text_edits(document.text, new_text, self.encoding))

    def document_changed(self, uri: str) -> None:
        if uri in self.lenses_moved:
            self.lenses_moved.discard(uri)
            self.services.client.refresh_code_lenses()

    def before_save(self, uri: str) -> list[types.TextEdit]:
        """Edits that take pending proposals' markers out before the document is saved.

        A proposal is text in the buffer until it is accepted or rejected; saved as it stands, the
        file would hold the markers. Saving rejects what is still pending, and says so.
        """
        document = self.services.documents.get(uri)
        pending = [s for s in self.sessions.values() if s.uri == uri]
        if document is None or not pending:
            return []
        text = document.text
        for session in pending:
            where = self.locate(text, session)
            self.sessions.pop(session.id, None)
            if where is not None:
                text = text[: where[0]] + session.original + text[where[1] :]
        if text == document.text:
            return []
        self.lenses_moved.add(uri)
        self.services.client.show(types.MessageType.Info,
                                  "Ghostwriter: the pending proposal was rejected before saving; ask again to redo it.")
        return minimal_text_edits(document.text, text, self.encoding)

    def code_lenses(self, uri: str) -> list[types.CodeLens]:
        document = self.services.documents.get(uri)
        if document is None:
            return []
        lenses = []
        for session in [s for s in self.sessions.values() if s.uri == uri]:
            where = self.locate(document.text, session)
            if where is None:
                continue
            line = document.syntax.line_index.position_at(where[0], self.encoding).line
            span = types.Range(start=types.Position(line, 0), end=types.Position(line, 0))
            for title, command in (("✔ Accept", protocol.CMD_ACCEPT_DIFF), ("✘ Reject", protocol.CMD_REJECT_DIFF)):
                invoke = types.Command(title=title, command=command, arguments=[uri, session.id])
                lenses.append(types.CodeLens(range=span, command=invoke))
        return lenses


def preview_edit(diffs: InlineDiffs, document: OpenDocument, version: int, span: tuple[int, int],
                 replacement: str, dangers: list[str]) -> types.WorkspaceEdit:
    """The edit for a proposal, previewed the best way the client allows (`codeActions.preview`).

    A change annotation with needsConfirmation makes the editor show its own diff first; clients
    without one get the inline diff, unless the user asked for plain edits ("changeAnnotation").
    """
    services = diffs.services
    mode = services.settings.code_actions.preview
    workspace = services.client.capabilities.workspace
    edit_caps = workspace.workspace_edit if workspace else None
    annotations = bool(edit_caps and edit_caps.change_annotation_support)
    note = danger_note(dangers)
    start, end = span
    if mode == "inlineDiff" or (mode == "auto" and not annotations):
        return diffs.propose(document, version, start, end, replacement, note)
    text = document.text
    edits = minimal_text_edits(text, text[:start] + replacement + text[end:], services.client.encoding)
    if not annotations:
        return versioned_edit(document.uri, version, edits)
    annotation = types.ChangeAnnotation(label=f"Ghostwriter proposal {note}".strip(), needs_confirmation=True,
                                        description=note or "Review before applying")
    return versioned_edit(document.uri, version, edits, ANNOTATION_ID, annotation)


async def _apply(diffs: InlineDiffs, args: tuple[Any, ...], accept: bool) -> dict[str, Any]:
    uri, session_id = uri_and_id(args)
    outcome = diffs.decide(uri, session_id, accept)
    client = diffs.services.client
    if isinstance(outcome, str):
        client.show(types.MessageType.Warning, f"Ghostwriter: {outcome}")
        return {"applied": False, "reason": outcome}
    label = "Ghostwriter: accept proposal" if accept else "Ghostwriter: reject proposal"
    result = await client.apply_edit(outcome, label)
    return {"applied": bool(result.applied), "reason": result.failure_reason or ""}


def register(server: LanguageServer, diffs: InlineDiffs) -> None:
    @server.feature(types.TEXT_DOCUMENT_WILL_SAVE_WAIT_UNTIL)
    def will_save(params: types.WillSaveTextDocumentParams) -> list[types.TextEdit]:
        return diffs.before_save(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def code_lens(params: types.CodeLensParams) -> list[types.CodeLens]:
        return diffs.code_lenses(params.text_document.uri)

    @server.command(protocol.CMD_ACCEPT_DIFF)
    async def accept_diff(*args: Any) -> dict[str, Any]:
        return await _apply(diffs, args, True)

    @server.command(protocol.CMD_REJECT_DIFF)
    async def reject_diff(*args: Any) -> dict[str, Any]:
        return await _apply(diffs, args, False)
