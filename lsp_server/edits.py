"""Old text → new text as minimal LSP TextEdits, and the versioned WorkspaceEdit that carries them.

A whole-file replace would move the user's cursor, wipe folds and marks, and make the editor's
preview useless; so the texts are diffed line by line (difflib) and each changed hunk is then
trimmed to the characters that really differ. All ranges refer to the old text, as LSP requires
for the edits of one TextDocumentEdit, and are expressed in the negotiated position encoding.
"""

from __future__ import annotations

import difflib

from lsprotocol import types

from context import positions


def minimal_text_edits(old: str, new: str, encoding: str = positions.UTF16) -> list[types.TextEdit]:
    """Non-overlapping edits, in document order, that turn `old` into `new`."""
    if old == new:
        return []
    index = positions.line_index(old)
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    old_starts = _starts(old_lines)
    new_starts = _starts(new_lines)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    edits: list[types.TextEdit] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start, end = _trimmed(old, new, old_starts[i1], old_starts[i2], new_starts[j1], new_starts[j2])
        edits.append(_edit(index, start[0], end[0], new[start[1] : end[1]], encoding))
    return edits


def _starts(lines: list[str]) -> list[int]:
    """Offsets of each line start, plus the text length as a sentinel."""
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def _trimmed(old: str, new: str, o1: int, o2: int, n1: int, n2: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Shrink the hunk old[o1:o2] → new[n1:n2] by its common prefix and suffix characters."""
    limit = min(o2 - o1, n2 - n1)
    prefix = 0
    while prefix < limit and old[o1 + prefix] == new[n1 + prefix]:
        prefix += 1
    # An edit boundary between "\r" and "\n" has no LSP position; keep the pair together.
    if prefix and old[o1 + prefix - 1] == "\r" and o1 + prefix < len(old) and old[o1 + prefix] == "\n":
        prefix -= 1
    limit -= prefix
    suffix = 0
    while suffix < limit and old[o2 - 1 - suffix] == new[n2 - 1 - suffix]:
        suffix += 1
    end = o2 - suffix
    if suffix and end > 0 and old[end - 1] == "\r" and old[end] == "\n":
        suffix -= 1
    return (o1 + prefix, n1 + prefix), (o2 - suffix, n2 - suffix)


def _edit(index: positions.LineIndex, start: int, end: int, text: str, encoding: str) -> types.TextEdit:
    begin = index.position_at(start, encoding)
    finish = index.position_at(end, encoding)
    return types.TextEdit(
        range=types.Range(start=types.Position(*begin), end=types.Position(*finish)), new_text=text
    )


def apply_text_edits(text: str, edits: list[types.TextEdit], encoding: str = positions.UTF16) -> str:
    """Apply LSP edits (ranges in the original text) the way a client does: all at once."""
    index = positions.line_index(text)
    spans = []
    for order, edit in enumerate(edits):
        start = index.offset_at(edit.range.start.line, edit.range.start.character, encoding)
        end = index.offset_at(edit.range.end.line, edit.range.end.character, encoding)
        spans.append((start, end, order, edit.new_text))
    spans.sort()
    result: list[str] = []
    cursor = 0
    for start, end, _, new_text in spans:
        if start < cursor:
            raise ValueError("overlapping text edits")
        result.append(text[cursor:start])
        result.append(new_text)
        cursor = end
    result.append(text[cursor:])
    return "".join(result)


def versioned_edit(uri: str, version: int, edits: list[types.TextEdit], annotation_id: str | None = None,
                   annotation: types.ChangeAnnotation | None = None) -> types.WorkspaceEdit:
    """A WorkspaceEdit the client refuses to apply to any version but `version`.

    With `annotation_id`, edits become AnnotatedTextEdits; pass `annotation` to define it (a
    ChangeAnnotation with needs_confirmation=True makes editors show their diff preview first).
    """
    body: list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit] = list(edits)
    if annotation_id is not None:
        body = [types.AnnotatedTextEdit(range=e.range, new_text=e.new_text, annotation_id=annotation_id)
                for e in edits]
    document = types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=body
    )
    annotations = {annotation_id: annotation} if annotation_id is not None and annotation is not None else None
    return types.WorkspaceEdit(document_changes=[document], change_annotations=annotations)
